import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PulseAPI
import PulseJobs
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

    /// Polls `/metrics` until `pulse_segment_waits` is `count`.
    static func waitForWaits(_ server: TestServer, toBe count: Int, within timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let metrics = try await send(.GET, "\(server.baseURL)/metrics").text
            let shown = metrics.split(separator: "\n").first { $0.hasPrefix("pulse_segment_waits ") }
            if let shown, Double(shown.dropFirst("pulse_segment_waits ".count)) == Double(count) { return }
            try #require(ContinuousClock.now < deadline, "waiting requests: \(shown ?? "none"), not \(count)")
            try await Task.sleep(for: .milliseconds(50))
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

    @Test("a wait whose client left frees its slot: 256 waits opened and closed leave room for a real one", .timeLimit(.minutes(3)))
    func closedWaitsFreeTheirSlots() async throws {
        try await TestServer.with(worker: false) { server in
            let id = try await Self.playingEarly(server, listing: 3)
            let path = "/media/\(id)/360p/seg_00001.ts"
            let url = server.baseURL + path
            // Fill every slot with requests on connections of our own.
            var waiting: [RawConnection] = []
            for _ in 0..<256 {
                let connection = try RawConnection(server.baseURL)
                try connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                waiting.append(connection)
            }
            try await Self.waitForWaits(server, toBe: 256, within: .seconds(60))
            #expect(try await send(.GET, url).status == 429, "every slot is taken")
            // The clients leave: their slots are free well before the abandoned waits would have
            // timed out (20 s), and a real waiting request gets one.
            for connection in waiting { connection.close() }
            waiting.removeAll()
            try await Self.waitForWaits(server, toBe: 0, within: .seconds(10))
            let real = Task { try await send(.GET, url) }
            try await Self.waitForWaits(server, toBe: 1, within: .seconds(10))
            try await server.runtime.store.put(ByteBuffer(string: "segment"), key: "processed/\(id)/360p/seg_00001.ts")
            let served = try await real.value
            #expect(served.status == 200 && served.text == "segment", "\(served.status) \(served.text)")
        }
    }
}
