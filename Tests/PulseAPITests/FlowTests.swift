import AsyncHTTPClient
import Foundation
@testable import PulseAPI
import PulseTestSupport
import Testing

/// The whole flow on the embedded default (SQLite, local storage, an embedded worker), against a
/// live server: create, upload through the signed URL, complete, events over WebSocket, playback
/// files, list, delete.
@Suite("API flow")
struct FlowTests {
    @Test("create, upload, complete, events, playback, delete", .enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(3)))
    func wholeFlow() async throws {
        let clip = try TestMedia.path("sd_480p.mp4")
        try await TestServer.with { server in
            let created = try await server.createAsset(filename: "My holiday (1).mp4")
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            #expect(created["status"] as? String == "awaiting_upload")
            let upload = try #require(created["upload"] as? [String: Any])
            #expect(upload["method"] as? String == "PUT")
            #expect((upload["url"] as? String)?.hasPrefix("\(server.baseURL)/storage/uploads/\(id)/My_holiday__1_.mp4?") == true)

            // Completing before the upload arrived is refused, and changes nothing.
            let early = try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: token)
            #expect(early.status == 404 && early.errorCode == "ERR_UPLOAD_NOT_FOUND")

            let put = try await server.upload(created, file: clip)
            #expect(put.status == 200)

            // Two subscribers from the start, before processing is queued.
            let first = EventLog()
            let second = EventLog()
            let eventsURL = "\(server.wsBase)/v1/assets/\(id)/events?token=\(token)"
            try await withThrowingTaskGroup(of: Void.self) { group in
                for log in [first, second] {
                    group.addTask {
                        _ = try await withTimeout(.seconds(120), "a subscriber") { try await followEvents(eventsURL, into: log) }
                    }
                }
                // Both sockets have their snapshot before the job is queued.
                try await waitUntil("both snapshots") { first.texts.count >= 1 && second.texts.count >= 1 }

                // Complete with the asset token; a second call is the same no-op.
                let complete = try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: token)
                #expect(complete.status == 202, "\(complete.text)")
                // The asset as it is when answered: the embedded worker, woken by the queued job, may
                // already have taken it.
                #expect(["queued", "processing"].contains(complete.json["status"] as? String), "\(complete.text)")
                let again = try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: token)
                #expect(again.status == 202)
                try await group.waitForAll()
            }

            for log in [first, second] {
                checkEventStory(log)
            }
            // Both end on the same state.
            let firstAsset = first.events.last?["asset"] as? [String: Any]
            let secondAsset = second.events.last?["asset"] as? [String: Any]
            #expect(firstAsset?["playlist_url"] as? String == secondAsset?["playlist_url"] as? String)
            #expect(firstAsset?["status"] as? String == "ready")

            // A late subscriber: the snapshot already says ready, then `ready`, then close.
            let late = EventLog()
            _ = try await withTimeout(.seconds(20), "late subscriber") { try await followEvents(eventsURL, into: late) }
            #expect(late.types == ["snapshot", "ready"])
            #expect((late.events.first?["asset"] as? [String: Any])?["status"] as? String == "ready")
            #expect((late.events.last?["asset"] as? [String: Any])?["playlist_url"] as? String == firstAsset?["playlist_url"] as? String)

            // Status with the token; list with the key.
            let status = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: token)
            #expect(status.status == 200)
            let asset = status.json
            #expect(asset["status"] as? String == "ready")
            #expect(asset["progress"] as? Double == 100)
            #expect((asset["rungs"] as? [[String: Any]])?.isEmpty == false)
            #expect(asset["duration"] as? Double ?? 0 > 1.5)
            #expect(asset["ready_at"] is String)
            #expect(asset["error"] is NSNull)
            let list = try await send(.GET, "\(server.baseURL)/v1/assets?limit=10", bearer: server.apiKey)
            #expect((list.json["assets"] as? [[String: Any]])?.first?["id"] as? String == id)

            // Playback files: MIME types, ranges, CORS.
            let playlistURL = try #require(asset["playlist_url"] as? String)
            let master = try await send(.GET, playlistURL, headers: [("Origin", "https://chat.example")])
            #expect(master.status == 200)
            #expect(master.headers.first(name: "content-type") == "application/vnd.apple.mpegurl")
            #expect(master.headers.first(name: "access-control-allow-origin") == "*")
            #expect(master.text.hasPrefix("#EXTM3U"))
            let rung = try #require(master.text.split(separator: "\n").first { $0.hasSuffix(".m3u8") && !$0.hasPrefix("#") })
            let rungBase = playlistURL.replacingOccurrences(of: "master.m3u8", with: "")
            let rungPlaylist = try await send(.GET, rungBase + rung)
            let segment = try #require(rungPlaylist.text.split(separator: "\n").first { $0.hasSuffix(".ts") })
            let segmentURL = rungBase + rung.split(separator: "/").dropLast().joined(separator: "/") + "/" + segment
            let ranged = try await send(.GET, segmentURL, headers: [("Range", "bytes=0-187")])
            #expect(ranged.status == 206)
            #expect(ranged.body.count == 188)
            #expect(ranged.body.first == 0x47, "an MPEG-TS packet starts with the sync byte")
            #expect(ranged.headers.first(name: "content-type") == "video/mp2t")
            #expect(ranged.headers.first(name: "content-range")?.hasPrefix("bytes 0-187/") == true)
            let unsatisfiable = try await send(.GET, segmentURL, headers: [("Range", "bytes=999999999-")])
            #expect(unsatisfiable.status == 416)
            let thumbnail = try await send(.GET, try #require(asset["thumbnail_url"] as? String))
            #expect(thumbnail.headers.first(name: "content-type") == "image/jpeg")
            #expect(thumbnail.body.starts(with: [0xFF, 0xD8]))

            // Delete: the row, the files, the upload.
            let tokenDelete = try await send(.DELETE, "\(server.baseURL)/v1/assets/\(id)", bearer: token)
            #expect(tokenDelete.status == 403, "a token cannot delete")
            let deleted = try await send(.DELETE, "\(server.baseURL)/v1/assets/\(id)", bearer: server.apiKey)
            #expect(deleted.status == 204)
            #expect(try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: server.apiKey).status == 404)
            #expect(try await send(.GET, playlistURL).status == 404)
            let leftovers = try await server.runtime.store.list(prefix: "processed/\(id)/") + server.runtime.store.list(prefix: "uploads/\(id)/")
            #expect(leftovers.isEmpty)
        }
    }

    /// The rules every subscriber's story follows.
    private func checkEventStory(_ log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) {
        let events = log.events
        #expect(log.types.first == "snapshot", sourceLocation: sourceLocation)
        #expect(log.types.last == "ready", "the last event is ready: \(log.types)", sourceLocation: sourceLocation)
        #expect(log.types.filter { $0 == "ready" }.count == 1, sourceLocation: sourceLocation)
        let thumbnailIndex = log.types.firstIndex(of: "thumbnail_ready")
        #expect(thumbnailIndex != nil, "a thumbnail_ready event: \(log.types)", sourceLocation: sourceLocation)
        let progress = events.enumerated().compactMap { index, event -> (Int, Double)? in
            guard event["type"] as? String == "progress", let percent = event["percent"] as? Double else { return nil }
            return (index, percent)
        }
        if let past10 = progress.first(where: { $0.1 > 10 }), let thumbnailIndex {
            #expect(thumbnailIndex < past10.0, "thumbnail before progress passes 10 %", sourceLocation: sourceLocation)
        }
        var previous = (events.first?["asset"] as? [String: Any])?["progress"] as? Double ?? 0
        for (_, percent) in progress {
            #expect(percent > previous, "progress never goes back: \(progress.map(\.1))", sourceLocation: sourceLocation)
            #expect(percent - previous >= 2 || percent == 100, "steps of at least 2: \(progress.map(\.1))", sourceLocation: sourceLocation)
            previous = percent
        }
        #expect(progress.last?.1 == 100 || progress.isEmpty, sourceLocation: sourceLocation)
        let thumbnail = events.first { $0["type"] as? String == "thumbnail_ready" }?["thumbnail_url"] as? String
        #expect(thumbnail?.hasSuffix("/thumbnail.jpg") == true, sourceLocation: sourceLocation)
    }
}
