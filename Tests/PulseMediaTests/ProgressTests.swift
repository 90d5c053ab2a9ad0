import Foundation
@testable import PulseMedia
import Testing

@Suite("Progress")
struct ProgressTests {
    @Test func parserSplitsBlocksAcrossReads() {
        var parser = ProgressParser()
        let text = "frame=10\nout_time_us=1500000\nspeed=2.5x\nprogress=continue\nout_time_ms=3000000\nprog"
        let first = parser.feed(Array(text.utf8))
        #expect(first == [ProgressReport(outTimeMicroseconds: 1_500_000, speed: 2.5, isEnd: false)])
        let second = parser.feed(Array("ress=end\n".utf8))
        // out_time_ms is microseconds too.
        #expect(second == [ProgressReport(outTimeMicroseconds: 3_000_000, speed: nil, isEnd: true)])
    }

    @Test func parserIgnoresNA() {
        var parser = ProgressParser()
        let reports = parser.feed(Array("out_time_us=N/A\ntotal_size=N/A\nspeed=N/A\nprogress=continue\n".utf8))
        #expect(reports == [ProgressReport(outTimeMicroseconds: nil, speed: nil, isEnd: false)])
    }

    @Test func aggregatorWeightsUnitsAndNeverDecreases() {
        let (video0, video1) = (WorkUnit.ID(kind: .video, index: 0), WorkUnit.ID(kind: .video, index: 1))
        var aggregator = ProgressAggregator(units: [video0: 60, video1: 60, WorkUnit.ID(kind: .audio, index: 0): 0])
        #expect(aggregator.thumbnailDone() == 5)
        #expect(abs(aggregator.update(video0, fraction: 0.5) - (5 + 95 * 0.25)) < 1e-9)
        // A late, lower report from the same unit does not move the percent back.
        #expect(abs(aggregator.update(video0, fraction: 0.2) - (5 + 95 * 0.25)) < 1e-9)
        #expect(aggregator.update(video0, fraction: 1) == 52.5)
        #expect(aggregator.update(video1, fraction: 1) == 100)
    }

    @Test func watchdogFiresWhenSilent() async {
        let watchdog = Watchdog(timeout: .milliseconds(300))
        await #expect(throws: MediaError.self) { try await watchdog.run() }
    }

    @Test func listenerReceivesReports() async throws {
        let received = ReportBox()
        try await ProgressListener.withListener(onReport: { received.append($0) }) { port in
            let result = try await shell("ffmpeg", [
                "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10", "-t", "1",
                "-progress", "tcp://127.0.0.1:\(port)", "-f", "null", "-",
            ])
            #expect(result.status == 0)
            // The last block may still be in flight on the loopback socket.
            for _ in 0..<50 where !received.all.contains(where: \.isEnd) { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(received.all.last?.isEnd == true)
        #expect((received.all.last?.outTimeMicroseconds ?? 0) >= 900_000)
    }
}

final class ReportBox: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [ProgressReport] = []
    func append(_ report: ProgressReport) { lock.withLock { reports.append(report) } }
    var all: [ProgressReport] { lock.withLock { reports } }
}

@Suite("Redaction")
struct RedactionTests {
    @Test func hidesQueryStringsAndCredentials() {
        let line = "[https @ 0x1] HTTP error 403 Forbidden\nhttps://bucket.s3.amazonaws.com/uploads/a.mp4?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA: Server returned 403"
        let redacted = Redaction.redact(line)
        #expect(!redacted.contains("deadbeef") && !redacted.contains("AKIA"))
        #expect(redacted.contains("https://bucket.s3.amazonaws.com/uploads/a.mp4?<redacted>"))
        #expect(Redaction.redact("http://user:secret@host/x") == "http://<redacted>@host/x")
    }
}
