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

    /// The status of a GET answered within `patience`; nil when none came (the request is
    /// waiting; giving up closes its connection).
    static func answered(_ url: String, within patience: TimeAmount) async throws -> Int? {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: patience)
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .cancelled {
            return nil
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

    @Test("a wait whose client left frees its slot: 256 waits opened and closed leave room for a real one", .timeLimit(.minutes(2)))
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
            let full = ContinuousClock.now + .seconds(20)
            while try await Self.answered(url, within: .milliseconds(300)) != 429 {
                try #require(ContinuousClock.now < full, "the slots never filled")
            }
            // The clients leave.
            for connection in waiting { connection.close() }
            waiting.removeAll()
            // A real waiting request gets a slot (it is not answered 429 but waits) well before
            // the abandoned waits would have timed out (20 s).
            let deadline = ContinuousClock.now + .seconds(5)
            while try await Self.answered(url, within: .milliseconds(300)) == 429 {
                try #require(ContinuousClock.now < deadline, "the closed requests still hold the wait slots")
            }
            let real = Task { try await send(.GET, url) }
            try await server.runtime.store.put(ByteBuffer(string: "segment"), key: "processed/\(id)/360p/seg_00001.ts")
            let served = try await real.value
            #expect(served.status == 200 && served.text == "segment", "\(served.status) \(served.text)")
        }
    }
}
