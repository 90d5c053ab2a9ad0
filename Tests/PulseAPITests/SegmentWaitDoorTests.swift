import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PulseAPI
import PulseJobs
import PulseTestSupport
import Testing

/// The wait for a first-rendition segment not stored yet: only for a name the published playlist
/// lists, and only while its client is there.
@Suite("Segment waits")
struct SegmentWaitDoorTests {
    /// An asset playing early, as the first rendition publishes it: processing, `playable_at`
    /// set, and its `360p` playlist listing `count` segments, none of them stored. Returns its id.
    static func playingEarly(_ server: TestServer, listing count: Int) async throws -> String {
        let id = try #require(try await server.createAsset()["id"] as? String)
        let assetID = try #require(UUID(uuidString: id))
        let assets = AssetRepository(database: server.runtime.database)
        try await assets.beginAttempt(assetID)
        try await assets.markPlayable(assetID)
        var lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:10", "#EXT-X-PLAYLIST-TYPE:VOD"]
        for index in 0..<count { lines += ["#EXTINF:10.000000,", String(format: "seg_%05d.ts", index)] }
        lines.append("#EXT-X-ENDLIST")
        try await server.runtime.store.put(ByteBuffer(string: lines.joined(separator: "\n") + "\n"), key: "processed/\(id)/360p/index.m3u8")
        return id
    }

    /// Polls `/metrics` until `pulse_segment_waits` is `count`. When it is not by `timeout`, the
    /// failure says what the server answered on `probe` (one of the waiting requests' connections),
    /// if anything: a request answered at once (404, 429) is not waiting.
    static func waitForWaits(_ server: TestServer, toBe count: Int, within timeout: Duration, probe: RawConnection? = nil) async throws {
        var shown: Substring?
        do {
            try await waitUntil("\(count) waiting requests", timeout: timeout, interval: .milliseconds(50)) {
                let metrics = try await send(.GET, "\(server.baseURL)/metrics").text
                shown = metrics.split(separator: "\n").first { $0.hasPrefix("pulse_segment_waits ") }
                return shown.map { Double($0.dropFirst("pulse_segment_waits ".count)) == Double(count) } ?? false
            }
        } catch let timedOut as TimeoutError {
            var answered = "no probe"
            if let probe {
                if let head = try? await probe.readHead() {
                    answered = "a waiting request was answered \(head.status) \(head.headers)"
                } else {
                    let closed = try await probe.secondsUntilClosed(within: 0.5) != nil
                    answered = closed ? "a waiting request's connection was closed unanswered" : "a waiting request is still unanswered"
                }
            }
            throw TimeoutError(timeout: timedOut.timeout, what: timedOut.what,
                               context: "\(shown.map(String.init) ?? "no pulse_segment_waits"); \(answered)")
        }
    }

    @Test("a name the playlists do not list is 404 at once; a listed one is waited for and served", .timeLimit(.minutes(1)))
    func unlistedNames() async throws {
        try await TestServer.with(worker: false) { server in
            let id = try await Self.playingEarly(server, listing: 3)
            let media = "\(server.baseURL)/media/\(id)"
            let listed = Task { try await send(.GET, "\(media)/360p/seg_00002.ts") }
            for path in ["360p/nope.ts", "360p/seg_00003.ts", "360p/seg_2.ts", "720p/seg_00001.ts", "audio/seg_00000.ts", "seg_00001.ts"] {
                let started = ContinuousClock.now
                let result = try await send(.GET, "\(media)/\(path)")
                #expect(result.status == 404 && result.errorCode == "ERR_NOT_FOUND", "\(path): \(result.status)")
                #expect(ContinuousClock.now - started < .seconds(3), "\(path) was waited for")
            }
            try await server.runtime.store.put(ByteBuffer(string: "segment"), key: "processed/\(id)/360p/seg_00002.ts")
            let served = try await listed.value
            #expect(served.status == 200 && served.text == "segment", "\(served.status)")
        }
    }

    @Test("a wait whose client left frees its slot: waits opened to the limit and closed leave room for a real one", .timeLimit(.minutes(3)))
    func closedWaitsFreeTheirSlots() async throws {
        let limit = 16
        try await TestServer.with(worker: false, configure: { $0.segmentWaitLimit = limit }) { server in
            let id = try await Self.playingEarly(server, listing: 3)
            let path = "/media/\(id)/360p/seg_00001.ts"
            let url = server.baseURL + path
            // Fill every slot with requests on connections of our own (connected on a thread of
            // their own: the server shares this process's cooperative threads).
            let waiting = try await onOwnThread {
                try (0..<limit).map { _ in
                    let connection = try RawConnection(server.baseURL)
                    try connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    return connection
                }
            }
            try await Self.waitForWaits(server, toBe: limit, within: .seconds(30), probe: waiting.last)
            let refused = try await send(.GET, url)
            #expect(refused.status == 429 && refused.errorCode == "ERR_TOO_MANY_CONNECTIONS" && refused.headers["retry-after"].first != nil,
                    "every slot is taken: \(refused.status) \(refused.text)")
            // The clients leave: their slots are free well before the abandoned waits would have
            // timed out (20 s), and a real waiting request gets one.
            for connection in waiting { connection.close() }
            try await Self.waitForWaits(server, toBe: 0, within: .seconds(10))
            let real = Task { try await send(.GET, url) }
            try await Self.waitForWaits(server, toBe: 1, within: .seconds(10))
            try await server.runtime.store.put(ByteBuffer(string: "segment"), key: "processed/\(id)/360p/seg_00001.ts")
            let served = try await real.value
            #expect(served.status == 200 && served.text == "segment", "\(served.status) \(served.text)")
        }
    }

    @Test("the wait limit is a setting, 256 by default")
    func limitSetting() {
        #expect(APIConfiguration().segmentWaitLimit == 256)
    }
}
