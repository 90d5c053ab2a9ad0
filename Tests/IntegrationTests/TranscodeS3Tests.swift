import Foundation
import PulseStorage
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct TranscodeS3 {
        /// `pulse-video transcode s3://... --out s3://...` on real footage whose moov is at the end:
        /// the whole ladder lands in the bucket, and the source is streamed by ffmpeg from a
        /// presigned URL with range requests (seeking to the moov and back), never copied to disk.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(2)))
        func transcodesFromBucketToBucketStreamingTheSource() async throws {
            try await withFixture { fixture in
                let requestLog = fixture.logDirectory + "/requests.log"
                let proxy = try await fixture.startProxy(requestLog: requestLog)
                let source = try TestMedia.path("bigbuckbunny.mp4")
                let sourceSize = try #require((try FileManager.default.attributesOfItem(atPath: source))[.size] as? Int)
                try await fixture.upload(source, key: "bigbuckbunny.mp4")
                let scratch = fixture.root + "/tmp"
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

                let transcode = try fixture.startPulse(
                    "transcode", ["transcode", "s3://\(fixture.bucket)/bigbuckbunny.mp4", "--out", "s3://\(fixture.bucket)/out/", "--progress", "none"],
                    environment: ["AWS_ENDPOINT_URL_S3": proxy.endpoint, "TMPDIR": scratch, "PULSE_ALLOW_HTTP": ""])
                // Watch the scratch folder and the ffmpeg processes while it runs.
                var largestScratchFile = 0
                var toolInputs: Set<String> = []
                try await waitUntil("the transcode to exit", timeout: .seconds(100), interval: .milliseconds(50), context: { transcode.stderrTail() }) {
                    largestScratchFile = max(largestScratchFile, largestFile(under: scratch))
                    for tool in mediaTools(commandLineContaining: scratch) {
                        if let flag = tool.commandLine.firstIndex(of: "-i"), flag + 1 < tool.commandLine.count {
                            toolInputs.insert(tool.commandLine[flag + 1])
                        }
                    }
                    return !transcode.isRunning
                }
                let status = await transcode.waitForExit(timeout: .seconds(5))
                #expect(status == 0, "transcode exited \(status.map(String.init) ?? "-"):\n\(transcode.stderrTail())")

                let stored = try await checkStoredHLS(fixture.store, prefix: "out/")
                #expect(stored.playlists.contains("audio/index.m3u8") || stored.playlists.count > 2, "playlists: \(stored.playlists)")
                #expect(largestScratchFile < sourceSize, "a \(largestScratchFile)-byte file in the scratch folder: the \(sourceSize)-byte source was copied")
                // Inputs in the scratch folder are the transcode's own files (the thumbnail scaled
                // for its placeholder, the lowest rung joined for the storyboard); every other is the source.
                let sourceInputs = toolInputs.filter { !$0.hasPrefix(scratch + "/") }
                #expect(!sourceInputs.isEmpty, "no ffmpeg seen reading the source")
                for input in sourceInputs {
                    #expect(input.hasPrefix("http://127.0.0.1:\(proxy.port)/") && input.contains("X-Amz-Signature="), "ffmpeg read \(input), not a presigned URL")
                }
                // What the bucket saw: the source only as signed, ranged GETs, and one of them
                // past the start (the moov at the end).
                let reads = proxiedRequests(requestLog).filter { $0.method == "GET" && $0.path == "/\(fixture.bucket)/bigbuckbunny.mp4" }
                #expect(!reads.isEmpty, "the source was never read through the endpoint")
                #expect(reads.allSatisfy { $0.query.contains("X-Amz-Signature=") }, "unsigned reads of the source: \(reads)")
                #expect(reads.allSatisfy { $0.range != nil }, "reads of the source without a Range: \(reads)")
                let offsets = reads.compactMap { $0.range.flatMap(rangeStart) }
                #expect(offsets.contains { $0 > sourceSize / 2 }, "no read near the end of the file (the moov): \(reads.map { $0.range ?? "-" })")

                print("[transcode] \(stored.segments.count) segments in \(stored.playlists.count) playlists; source reads: \(reads.map { $0.range ?? "-" }); largest scratch file \(largestScratchFile) of \(sourceSize) bytes")

                // A source that is not a video: non-zero, ERR_NON_VIDEO, nothing under the output prefix.
                try await fixture.upload(try TestMedia.path("not_video.mp4"), key: "bad.mp4")
                let failed = try await fixture.runPulse(
                    ["transcode", "s3://\(fixture.bucket)/bad.mp4", "--out", "s3://\(fixture.bucket)/bad-out/", "--progress", "none"],
                    environment: ["AWS_ENDPOINT_URL_S3": proxy.endpoint, "TMPDIR": scratch])
                #expect(failed.status != 0)
                #expect(failed.stderr.contains("ERR_NON_VIDEO"), "stderr: \(failed.stderr)")
                #expect(try await fixture.store.list(prefix: "bad-out/").isEmpty)
            }
        }
    }
}

extension IntegrationTests.TranscodeS3 {
    /// ffmpeg dies mid-encode (killed, as the OOM killer would), after segments were uploaded: the
    /// output prefix is cleared and nothing under it is left; a neighbouring prefix is untouched.
    @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(2)))
    func aFailureMidEncodeClearsTheOutputPrefix() async throws {
        try await withFixture { fixture in
            let requestLog = fixture.logDirectory + "/requests.log"
            let proxy = try await fixture.startProxy(requestLog: requestLog)
            try await fixture.upload(try await Clips.hd6s(), key: "source.mp4")
            try await fixture.upload(try await Clips.hd6s(), key: "out-neighbour/keep.mp4")
            let scratch = fixture.root + "/tmp"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

            let transcode = try fixture.startPulse(
                "transcode", ["transcode", "s3://\(fixture.bucket)/source.mp4", "--out", "s3://\(fixture.bucket)/out", "--progress", "none",
                              "--segment-seconds", "1", "--preset", "veryslow"],
                environment: ["AWS_ENDPOINT_URL_S3": proxy.endpoint, "TMPDIR": scratch])
            func stored() -> [ProxiedRequest] {
                proxiedRequests(requestLog).filter { $0.method == "PUT" && $0.path.hasPrefix("/\(fixture.bucket)/out/") && $0.path.hasSuffix(".ts") }
            }
            try await waitUntil("two segments to be stored", timeout: .seconds(60), interval: .milliseconds(50), context: { transcode.stderrTail() }) {
                stored().count >= 2
            }
            let encoders = mediaTools(commandLineContaining: scratch)
            #expect(!encoders.isEmpty, "no ffmpeg seen encoding")
            for encoder in encoders { kill(encoder.pid, SIGKILL) }

            let status = await transcode.waitForExit(timeout: .seconds(30))
            #expect(status != nil && status != 0, "transcode exited \(status.map(String.init) ?? "-")")
            #expect(transcode.stderrTail().contains("ERR_ENCODER_FAILED"), "stderr: \(transcode.stderrTail())")
            #expect(stored().count >= 2)
            #expect(try await fixture.store.list(prefix: "out/").isEmpty, "segments left under the output prefix")
            #expect(try await fixture.store.head(key: "out-neighbour/keep.mp4") != nil)
        }
    }
}

/// The size of the largest regular file under `folder`, 0 if none.
func largestFile(under folder: String) -> Int {
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return 0 }
    var largest = 0
    for case let relative as String in enumerator {
        let attributes = try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(relative)")
        if attributes?[.type] as? FileAttributeType == .typeRegular, let size = attributes?[.size] as? Int {
            largest = max(largest, size)
        }
    }
    return largest
}

/// The first byte of `bytes=N-` or `bytes=N-M`.
func rangeStart(_ header: String) -> Int? {
    guard header.hasPrefix("bytes=") else { return nil }
    return Int(header.dropFirst("bytes=".count).prefix { $0.isNumber })
}
