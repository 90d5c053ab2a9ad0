import AsyncHTTPClient
import Foundation
@testable import PulseAPI
import PulseService
import PulseTestSupport
import Testing

/// What a chat backend uses, over HTTP: passthrough, `Idempotency-Key`, signed playback and `download.mp4`, against
/// a live server (SQLite, local storage; the database side runs on both engines in
/// `IdempotencyAndPassthroughTests`).
@Suite("Passthrough, idempotency, signed playback, download")
struct PlaybackTests {
    func create(_ server: TestServer, _ body: [String: Any], key: String? = nil) async throws -> HTTPResult {
        try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey, headers: key.map { [("Idempotency-Key", $0)] } ?? [], body: json(body))
    }

    @Test("create options are checked and kept; the list filters by passthrough and status")
    func createOptionsAndFilter() async throws {
        try await TestServer.with(worker: false) { server in
            // Too long (256 bytes), a control character, empty: refused with the specific code.
            for bad in [String(repeating: "x", count: 256), "a\u{7}b", ""] {
                let result = try await create(server, ["filename": "a.mp4", "passthrough": bad])
                #expect(result.status == 400 && result.errorCode == "ERR_INVALID_PASSTHROUGH", "\(bad.utf8.count) bytes: \(result.text)")
            }
            let policy = try await create(server, ["filename": "a.mp4", "playback_policy": "private"])
            #expect(policy.status == 400 && policy.errorCode == "ERR_INVALID_REQUEST")
            let mp4 = try await create(server, ["filename": "a.mp4", "mp4": "yes"])
            #expect(mp4.status == 400 && mp4.errorCode == "ERR_INVALID_REQUEST")

            // 255 bytes of UTF-8 (85 three-byte characters) is the most there may be.
            let longest = String(repeating: "€", count: 85)
            let created = try await create(server, ["filename": "a.mp4", "passthrough": longest, "playback_policy": "signed", "mp4": true])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json["passthrough"] as? String == longest)
            #expect(created.json["playback_policy"] as? String == "signed" && created.json["mp4"] as? Bool == true)
            let id = try #require(created.json["id"] as? String)
            let shown = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: server.apiKey).json
            #expect(shown["passthrough"] as? String == longest && shown["playback_policy"] as? String == "signed")
            #expect(shown["download_url"] is NSNull && shown["playlist_url"] is NSNull)

            let plain = try await create(server, ["filename": "b.mp4"])
            #expect(plain.json["passthrough"] is NSNull && plain.json["playback_policy"] as? String == "public" && plain.json["mp4"] as? Bool == false)
            let other = try await create(server, ["filename": "c.mp4", "passthrough": "msg-42"])
            let otherID = try #require(other.json["id"] as? String)

            func listed(_ query: String) async throws -> HTTPResult {
                try await send(.GET, "\(server.baseURL)/v1/assets?\(query)", bearer: server.apiKey)
            }
            let byMessage = try await listed("passthrough=msg-42&status=awaiting_upload")
            #expect((byMessage.json["assets"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [otherID])
            #expect((try await listed("passthrough=msg-42&status=ready").json["assets"] as? [[String: Any]])?.isEmpty == true)
            let encoded = try #require(longest.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            #expect((try await listed("passthrough=\(encoded)").json["assets"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let badStatus = try await listed("status=done")
            #expect(badStatus.status == 400 && badStatus.errorCode == "ERR_INVALID_REQUEST")
            let badFilter = try await listed("passthrough=\(String(repeating: "y", count: 256))")
            #expect(badFilter.status == 400 && badFilter.errorCode == "ERR_INVALID_PASSTHROUGH")
        }
    }

    @Test("Idempotency-Key: the same request is the same asset, another is 409, duplicates at once make one asset")
    func idempotency() async throws {
        try await TestServer.with(worker: false) { server in
            let body: [String: Any] = ["filename": "a.mp4", "passthrough": "msg-1", "content_type": "video/mp4"]
            let first = try await create(server, body, key: "key-1")
            #expect(first.status == 201 && first.headers["Idempotent-Replayed"].isEmpty)
            let id = try #require(first.json["id"] as? String)
            // The same request, written differently (key order, spacing, a default spelled out),
            // with the key quoted as the draft's Structured Field String.
            let respelled = Data(#"{ "content_type":"video/mp4", "passthrough":"msg-1", "filename":"a.mp4", "playback_policy":"public", "mp4":false }"#.utf8)
            let again = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey, headers: [("Idempotency-Key", "\"key-1\"")], body: respelled)
            #expect(again.status == 201 && again.json["id"] as? String == id, "\(again.text)")
            #expect(again.headers["Idempotent-Replayed"] == ["true"])
            #expect(again.json["upload"] is [String: Any] && again.json["token"] is String && again.json["passthrough"] as? String == "msg-1")

            var changed = body
            changed["passthrough"] = "msg-2"
            let reused = try await create(server, changed, key: "key-1")
            #expect(reused.status == 409 && reused.errorCode == "ERR_IDEMPOTENCY_KEY_REUSED")

            for bad in ["", String(repeating: "k", count: 256), "a\tb", "\"a\"b\""] {
                let result = try await create(server, body, key: bad)
                #expect(result.status == 400 && result.errorCode == "ERR_INVALID_IDEMPOTENCY_KEY", "\(bad): \(result.text)")
            }
            let twice = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey,
                                       headers: [("Idempotency-Key", "a"), ("Idempotency-Key", "b")], body: json(body))
            #expect(twice.status == 400 && twice.errorCode == "ERR_INVALID_IDEMPOTENCY_KEY")

            // Eight at once with one new key: one asset, every answer names it.
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<8 { group.addTask { try await create(server, ["filename": "burst.mp4"], key: "burst").json["id"] as? String } }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(ids.count == 8 && Set(ids).count == 1 && ids[0] != nil)
            let all = try await send(.GET, "\(server.baseURL)/v1/assets?limit=100", bearer: server.apiKey)
            #expect((all.json["assets"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test("a signed asset plays only through its tokened URLs; download.mp4 is remuxed and announced",
          .enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(3)))
    func signedPlaybackAndDownload() async throws {
        let clip = try TestMedia.path("sd_480p.mp4")
        let capture = LogCapture()
        var minted: [String] = []
        try await TestServer.with(logger: capture.logger()) { server in
            let created = try await create(server, ["filename": "private.mp4", "playback_policy": "signed", "mp4": true, "passthrough": "msg-7"])
            let id = try #require(created.json["id"] as? String)
            let token = try #require(created.json["token"] as? String)
            #expect(try await server.upload(created.json, file: clip).status == 200)

            let log = EventLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await withTimeout(.seconds(120), "events") {
                        try await followEvents("\(server.wsBase)/v1/assets/\(id)/events?token=\(token)", into: log)
                    }
                }
                try await waitUntil("the snapshot") { !log.texts.isEmpty }
                #expect(try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: token).status == 202)
                try await group.waitForAll()
            }
            // Every event names the message the video belongs to.
            #expect(log.types.last == "ready")
            #expect(log.events.allSatisfy { $0["passthrough"] as? String == "msg-7" }, "\(log.texts)")
            if let thumbnail = log.events.first(where: { $0["type"] as? String == "thumbnail_ready" })?["thumbnail_url"] as? String {
                #expect(thumbnail.contains("/media/\(id)/t/"))
                #expect(try await send(.GET, thumbnail).status == 200)
            }

            let asset = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: server.apiKey).json
            let playlist = try #require(asset["playlist_url"] as? String)
            let download = try #require(asset["download_url"] as? String)
            let thumbnail = try #require(asset["thumbnail_url"] as? String)
            #expect(playlist.hasPrefix("\(server.baseURL)/media/\(id)/t/") && playlist.hasSuffix("/master.m3u8"))
            #expect(download.hasPrefix("\(server.baseURL)/media/\(id)/t/") && download.hasSuffix("/download.mp4"))
            let tokenPath = String(playlist.dropLast("master.m3u8".count))
            minted.append(String(tokenPath.split(separator: "/").last!))

            // Everything the player resolves relatively from the master playlist works as it is.
            let master = try await send(.GET, playlist)
            #expect(master.status == 200 && master.headers["Cache-Control"].first?.hasPrefix("private") == true)
            let uris = master.text.split(separator: "\n").compactMap { line -> String? in
                if line.hasPrefix("#EXT-X-MEDIA"), let start = line.range(of: "URI=\"") {
                    return String(line[start.upperBound...].prefix { $0 != "\"" })
                }
                return line.hasPrefix("#") || line.isEmpty ? nil : String(line)
            }
            #expect(uris.contains("audio/index.m3u8") && uris.count >= 2, "\(master.text)")
            for uri in uris {
                let media = try await send(.GET, tokenPath + uri)
                #expect(media.status == 200, "\(uri)")
                let folder = uri.split(separator: "/").dropLast().joined(separator: "/")
                let segment = try #require(media.text.split(separator: "\n").first { $0.hasSuffix(".ts") })
                #expect(try await send(.GET, "\(tokenPath)\(folder)/\(segment)", headers: [("Range", "bytes=0-187")]).status == 206)
            }
            #expect(try await send(.GET, thumbnail).status == 200)

            // Without the token, with another asset's, with a forged one, expired: refused.
            let plain = try await send(.GET, "\(server.baseURL)/media/\(id)/master.m3u8")
            #expect(plain.status == 403 && plain.errorCode == "ERR_PLAYBACK_TOKEN_REQUIRED")
            let plainSegment = try await send(.GET, "\(server.baseURL)/media/\(id)/audio/index.m3u8")
            #expect(plainSegment.status == 403)
            let signer = server.server.dependencies.links.playbackTokens
            let now = Int64(Date().timeIntervalSince1970)
            let foreign = signer.token(for: UUID(), expires: now + 600)
            let forged = String(minted[0].dropLast()) + (minted[0].hasSuffix("0") ? "1" : "0")
            for bad in [foreign, forged, "\(now + 600).\(String(repeating: "a", count: 64))", "x"] {
                let result = try await send(.GET, "\(server.baseURL)/media/\(id)/t/\(bad)/master.m3u8")
                #expect(result.status == 403 && result.errorCode == "ERR_PLAYBACK_TOKEN_REQUIRED", "\(bad)")
            }
            let expired = try await send(.GET, "\(server.baseURL)/media/\(id)/t/\(signer.token(for: UUID(uuidString: id)!, expires: now - 1))/master.m3u8")
            #expect(expired.status == 401 && expired.errorCode == "ERR_TOKEN_EXPIRED")

            // Minting: the API key only, 60 s to 7 days, signed assets only.
            let mintURL = "\(server.baseURL)/v1/assets/\(id)/playback-tokens"
            let fresh = try await send(.POST, mintURL, bearer: server.apiKey, body: json(["ttl_seconds": 60]))
            #expect(fresh.status == 201, "\(fresh.text)")
            let freshToken = try #require(fresh.json["token"] as? String)
            minted.append(freshToken)
            #expect(fresh.json["playlist_url"] as? String == "\(server.baseURL)/media/\(id)/t/\(freshToken)/master.m3u8")
            let expiresAt = try #require(fresh.json["expires_at"] as? String)
            let expiry = try #require(ISO8601DateFormatter().date(from: expiresAt.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)))
            #expect(abs(expiry.timeIntervalSinceNow - 60) < 5)
            #expect(try await send(.GET, try #require(fresh.json["download_url"] as? String), headers: [("Range", "bytes=0-99")]).status == 206)
            for ttl in [59, 7 * 24 * 3600 + 1] {
                let refused = try await send(.POST, mintURL, bearer: server.apiKey, body: json(["ttl_seconds": ttl]))
                #expect(refused.status == 400 && refused.errorCode == "ERR_INVALID_REQUEST")
            }
            #expect(try await send(.POST, mintURL, bearer: token, body: json([:])).errorCode == "ERR_FORBIDDEN")
            #expect(try await send(.POST, mintURL, body: json([:])).status == 401)
            let publicAsset = try #require(try await create(server, ["filename": "p.mp4"]).json["id"] as? String)
            let notSigned = try await send(.POST, "\(server.baseURL)/v1/assets/\(publicAsset)/playback-tokens", bearer: server.apiKey, body: json([:]))
            #expect(notSigned.status == 409 && notSigned.errorCode == "ERR_CONFLICT")

            // download.mp4: h264 + aac, the asset's duration, moov before mdat, remuxed not re-encoded.
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-download-\(UUID().uuidString).mp4").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let mp4 = try await send(.GET, download)
            // Saved under the upload's own name, not "download.mp4".
            #expect(mp4.headers["Content-Disposition"].first == #"attachment; filename="private.mp4"; filename*=UTF-8''private.mp4"#)
            #expect(mp4.status == 200 && mp4.headers["Content-Type"].first == "video/mp4")
            try mp4.body.write(to: URL(fileURLWithPath: file))
            let probe = try JSONSerialization.jsonObject(with: try await onOwnThread { try ffprobeJSON(file) }) as? [String: Any] ?? [:]
            let streams = (probe["streams"] as? [[String: Any]] ?? []).map { "\($0["codec_type"] ?? "?"):\($0["codec_name"] ?? "?")" }.sorted()
            #expect(streams == ["audio:aac", "video:h264"])
            let duration = Double((probe["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
            let assetDuration = try #require(asset["duration"] as? Double)
            #expect(abs(duration - assetDuration) < max(0.5, assetDuration * 0.02), "\(duration) vs \(assetDuration)")
            let boxes = topLevelBoxes(mp4.body)
            #expect(boxes.firstIndex(of: "moov") != nil && boxes.firstIndex(of: "moov")! < (boxes.firstIndex(of: "mdat") ?? -1), "\(boxes)")
            // The top rung's picture.
            let width = (probe["streams"] as? [[String: Any]])?.first { $0["codec_type"] as? String == "video" }?["width"] as? Int
            let rungs = asset["rungs"] as? [[String: Any]] ?? []
            #expect(width == rungs.first?["width"] as? Int)
        }
        // No playback token is ever written to the log; the media path is, redacted.
        let lines = capture.all
        #expect(lines.contains { $0.contains("http.path=/media/") && $0.contains("/t/REDACTED/") })
        for token in minted {
            let mac = String(token.split(separator: ".").last ?? "")
            #expect(mac.count == 64 && !lines.contains { $0.contains(mac) }, "a log line holds a playback token")
        }
    }

    @Test("PULSE_PLAYBACK_TOKEN_TTL_SECONDS: 60 s to 7 days, 1 h by default; out of range is named")
    func playbackTokenLifetimeSetting() throws {
        #expect(try PulseConfiguration(environment: [:]).api.playbackTokenLifetime == .seconds(3600))
        #expect(try PulseConfiguration(environment: ["PULSE_PLAYBACK_TOKEN_TTL_SECONDS": "604800"]).api.playbackTokenLifetime == .seconds(604_800))
        for bad in ["59", "604801", "1h", "-60"] {
            do {
                _ = try PulseConfiguration(environment: ["PULSE_PLAYBACK_TOKEN_TTL_SECONDS": bad])
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.problems.first?.hasPrefix("PULSE_PLAYBACK_TOKEN_TTL_SECONDS") == true, "\(bad)")
            }
        }
    }

    @Test("the request log redacts the playback token in media paths")
    func loggedPath() {
        #expect(LoggedPath.redacted("/media/abc/t/123.dead/master.m3u8") == "/media/abc/t/REDACTED/master.m3u8")
        #expect(LoggedPath.redacted("/media/abc/%74/123.dead/720p/seg_00001.ts") == "/media/abc/%74/REDACTED/720p/seg_00001.ts")
        #expect(LoggedPath.redacted("/media/abc/720p/index.m3u8") == "/media/abc/720p/index.m3u8")
        #expect(LoggedPath.redacted("/v1/assets/t/x/y") == "/v1/assets/t/x/y")
    }

    @Test("playback tokens: one asset, one expiry, one spelling")
    func tokens() {
        let signer = PlaybackTokenSigner(secret: Array(repeating: 1, count: 32))
        let other = PlaybackTokenSigner(secret: Array(repeating: 2, count: 32))
        let id = UUID()
        let now = Date(timeIntervalSince1970: 1_000_000)
        let token = signer.token(for: id, expires: 1_000_060)
        #expect(signer.verify(token, assetID: id, now: now) == .valid)
        #expect(signer.verify(token, assetID: id, now: now.addingTimeInterval(60)) == .valid)
        #expect(signer.verify(token, assetID: id, now: now.addingTimeInterval(61)) == .expired)
        #expect(signer.verify(token, assetID: UUID(), now: now) == .invalid)
        #expect(other.verify(token, assetID: id, now: now) == .invalid)
        // Another spelling of the same values, or the expiry moved: invalid.
        #expect(signer.verify("0" + token, assetID: id, now: now) == .invalid)
        #expect(signer.verify(token.uppercased(), assetID: id, now: now) == .invalid)
        #expect(signer.verify("1000061" + token.dropFirst(7), assetID: id, now: now) == .invalid)
        // An asset token for the same asset and expiry (same secret) is not a playback token.
        let assetToken = AssetTokenSigner(secret: Array(repeating: 1, count: 32)).token(for: id, expires: 1_000_060)
        let mac = assetToken.split(separator: ".").last!
        #expect(signer.verify("1000060.\(mac)", assetID: id, now: now) == .invalid)
    }
}

/// ffprobe's JSON for a file: streams and format.
private func ffprobeJSON(_ path: String) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name,width", "-of", "json", path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}

/// The types of an MP4's top-level boxes, in order.
private func topLevelBoxes(_ data: Data) -> [String] {
    var boxes: [String] = []
    var offset = 0
    let bytes = [UInt8](data)
    while offset + 8 <= bytes.count {
        var size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
        if size == 1, offset + 16 <= bytes.count { size = bytes[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) } }
        boxes.append(type)
        guard size >= 8 else { break }
        offset += size
    }
    return boxes
}
