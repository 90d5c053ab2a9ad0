import Foundation
import OpenAPIRuntime
import Testing

/// Every `/v1` operation through the client generated from docs/openapi.yaml, against a live
/// `serve`: the answers decode into the generated types (typed enums, nullable fields, dates).
@Suite(.serialized)
struct ClientContractTests {
    @Test("PUT upload: create with every option, idempotent replay, complete, ready, tokens, lists, deliveries, delete")
    func putUploadLifecycle() async throws {
        try await LiveServer.with { server in
            let api = server.client()
            let bytes = try LiveServer.clip("sd_480p.mp4")
            let passthrough = "message-\(UUID().uuidString)"
            let request = Components.Schemas.CreateAssetRequest(
                filename: "sd_480p.mp4", size: bytes.count, content_type: "video/mp4", passthrough: passthrough,
                playback_policy: .signed, mp4: true, upload_type: .put
            )
            let key = "create-\(UUID().uuidString)"
            let before = Date().addingTimeInterval(-1)
            let created = try await api.createAsset(headers: .init(Idempotency_hyphen_Key: key), body: .json(request)).created
            #expect(created.headers.Idempotent_hyphen_Replayed == nil)
            let asset = try created.body.json
            #expect(asset.status == .awaiting_upload)
            #expect(asset.passthrough == passthrough)
            #expect(asset.playback_policy == .signed)
            #expect(asset.mp4 == true)
            #expect(asset.token.hasPrefix("at1."))
            #expect(asset.token_expires_at > before)
            guard case .case1(let upload) = asset.upload else {
                throw Failure("a put create answered \(asset.upload)")
            }
            #expect(upload.method == .PUT)
            #expect(upload.expires_at > before)

            // The same key and request: the same asset, marked as replayed.
            let replay = try await api.createAsset(headers: .init(Idempotency_hyphen_Key: key), body: .json(request)).created
            #expect(replay.headers.Idempotent_hyphen_Replayed == ._true)
            #expect(try replay.body.json.id == asset.id)
            // The same key with another request: the documented conflict.
            var other = request
            other.filename = "other.mp4"
            let reused = try await api.createAsset(headers: .init(Idempotency_hyphen_Key: key), body: .json(other)).conflict
            #expect(try reused.code == "ERR_IDEMPOTENCY_KEY_REUSED")

            // The asset token reads the asset before its upload: nullable fields are nil.
            let withToken = server.client(bearer: asset.token)
            let waiting = try await withToken.asset(asset.id)
            #expect(waiting.status == .awaiting_upload)
            #expect(waiting.error == nil)
            #expect(waiting.ready_at == nil)
            #expect(waiting.playable_at == nil)
            #expect(waiting.playlist_url == nil)
            #expect(waiting.download_url == nil)
            #expect(waiting.placeholder == nil && waiting.storyboard_url == nil)
            #expect(waiting.duration == nil)
            #expect(waiting.size == bytes.count)
            #expect(waiting.filename == "sd_480p.mp4")
            #expect(waiting.created_at > before && waiting.created_at <= waiting.updated_at)
            // An asset token cannot mint playback tokens (API key only).
            let forbidden = try await withToken.createPlaybackToken(path: .init(id: asset.id), body: .json(.init())).forbidden
            #expect(try forbidden.code == "ERR_FORBIDDEN")

            let (status, _) = try await presignedPUT(upload.url, headers: upload.headers.additionalProperties, body: bytes)
            #expect(status == 200)
            let completed = try await withToken.completeAsset(path: .init(id: asset.id)).accepted.body.json
            #expect([.queued, .processing, .ready].contains(completed.status))

            let ready = try await api.waitUntilReady(asset.id)
            #expect(ready.status == .ready)
            #expect(ready.progress == 100)
            #expect(ready.error == nil)
            #expect((ready.duration ?? 0) > 0)
            #expect(!ready.rungs.isEmpty)
            #expect(ready.rungs.allSatisfy { $0.width > 0 && $0.height > 0 })
            let readyAt = try #require(ready.ready_at)
            let playableAt = try #require(ready.playable_at)
            #expect(ready.created_at <= playableAt && playableAt <= readyAt)
            #expect(ready.playback_policy == .signed)
            // A signed asset's URLs carry a playback token; mp4: true gives a download.
            #expect(try #require(ready.playlist_url).contains("/t/"))
            #expect(try #require(ready.download_url).hasSuffix("download.mp4"))
            #expect(ready.thumbnail_url != nil)
            // What a chat paints first and scrubs with: a BlurHash and a signed storyboard.
            #expect(try #require(ready.placeholder).count == 28)
            let storyboard = try #require(ready.storyboard_url)
            #expect(storyboard.contains("/t/") && storyboard.hasSuffix("storyboard.vtt"))

            let minted = try await api.createPlaybackToken(path: .init(id: asset.id), body: .json(.init(ttl_seconds: 120))).created.body.json
            #expect(!minted.token.isEmpty)
            #expect(abs(minted.expires_at.timeIntervalSinceNow - 120) < 30)
            #expect(try #require(minted.playlist_url).contains(minted.token))
            #expect(minted.download_url != nil)
            #expect(minted.thumbnail_url != nil)
            let outOfRange = try await api.createPlaybackToken(path: .init(id: asset.id), body: .json(.init(ttl_seconds: 1))).badRequest
            #expect(try outOfRange.code == "ERR_INVALID_REQUEST")

            // Lists: each filter, and a cursor across two pages.
            let second = try await api.createAsset(body: .json(.init(filename: "second.mp4"))).created.body.json
            let byPassthrough = try await api.listAssets(query: .init(passthrough: passthrough)).ok.body.json
            #expect(byPassthrough.assets.map(\.id) == [asset.id])
            #expect(byPassthrough.next_cursor == nil)
            let readyOnes = try await api.listAssets(query: .init(status: .ready)).ok.body.json
            #expect(readyOnes.assets.map(\.id) == [asset.id])
            let waitingOnes = try await api.listAssets(query: .init(status: .awaiting_upload)).ok.body.json
            #expect(waitingOnes.assets.map(\.id) == [second.id])
            let first = try await api.listAssets(query: .init(limit: 1)).ok.body.json
            #expect(first.assets.map(\.id) == [second.id])
            let cursor = try #require(first.next_cursor)
            let next = try await api.listAssets(query: .init(limit: 1, cursor: cursor)).ok.body.json
            #expect(next.assets.map(\.id) == [asset.id])
            #expect(next.next_cursor == nil)
            let badLimit = try await api.listAssets(query: .init(limit: 0)).badRequest
            #expect(try badLimit.code.hasPrefix("ERR_"))

            // The webhook outbox holds the asset's events even with no webhook URL set.
            let deliveries = try await api.listWebhookDeliveries(query: .init(asset_id: asset.id, limit: 10)).ok.body.json.deliveries
            #expect(deliveries.contains { $0._type == .asset_period_ready })
            #expect(deliveries.contains { $0._type == .asset_period_thumbnail_ready })
            for delivery in deliveries {
                #expect(delivery.asset_id == asset.id)
                #expect(delivery.id.hasPrefix("msg_"))
                #expect(delivery.created_at >= ready.created_at)
                #expect([.pending, .delivered, .failed].contains(delivery.status))
            }

            _ = try await api.deleteAsset(path: .init(id: asset.id)).noContent
            let gone = try await api.getAsset(path: .init(id: asset.id)).notFound
            #expect(try gone.code == "ERR_NOT_FOUND")
        }
    }

    @Test("Multipart upload: part URLs, the stored parts, complete with ETags, ready with public URLs")
    func multipartLifecycle() async throws {
        try await LiveServer.with { server in
            let api = server.client()
            let bytes = try LiveServer.clip("sd_480p.mp4")
            let asset = try await api.createAsset(body: .json(.init(
                filename: "multi.mp4", size: bytes.count, upload_type: .multipart
            ))).created.body.json
            #expect(asset.playback_policy == ._public)
            #expect(asset.mp4 == false)
            #expect(asset.passthrough == nil)
            guard case .case2(let plan) = asset.upload else {
                throw Failure("a multipart create answered \(asset.upload)")
            }
            #expect(plan.method == .multipart)
            #expect(plan.part_count == (bytes.count + plan.part_size - 1) / plan.part_size)

            let withToken = server.client(bearer: asset.token)
            let urls = try await withToken.createUploadPartURLs(
                path: .init(id: asset.id), body: .json(.init(part_numbers: Array(1...plan.part_count)))
            ).ok.body.json.parts
            #expect(urls.map(\.part_number) == Array(1...plan.part_count))
            #expect(urls.map(\.size).reduce(0, +) == bytes.count)
            var sent: [Components.Schemas.CompleteMultipartRequest.partsPayloadPayload] = []
            var offset = 0
            for part in urls {
                #expect(part.method == .PUT)
                let slice = bytes.subdata(in: offset..<(offset + part.size))
                offset += part.size
                let (status, etag) = try await presignedPUT(part.url, headers: part.headers.additionalProperties, body: slice)
                #expect(status == 200)
                sent.append(.init(part_number: part.part_number, etag: try #require(etag)))
            }
            let stored = try await withToken.listUploadedParts(path: .init(id: asset.id)).ok.body.json
            #expect(stored.parts.map(\.part_number) == sent.map(\.part_number))
            #expect(stored.parts.map(\.size).reduce(0, +) == bytes.count)
            #expect(stored.size == bytes.count && stored.part_size == plan.part_size && stored.part_count == plan.part_count)
            #expect(stored.expires_at > Date())
            // complete names every part with its ETag, in order.
            let completed = try await withToken.completeAsset(path: .init(id: asset.id), body: .json(.init(parts: sent))).accepted.body.json
            #expect([.queued, .processing, .ready].contains(completed.status))

            let ready = try await api.waitUntilReady(asset.id)
            #expect(ready.playback_policy == ._public)
            #expect(ready.download_url == nil)
            #expect(try #require(ready.playlist_url).contains("/media/\(asset.id)/"))
            #expect(!(try #require(ready.playlist_url)).contains("/t/"))
            // A public asset needs no playback token.
            let conflict = try await api.createPlaybackToken(path: .init(id: asset.id), body: .json(.init())).conflict
            #expect(try conflict.code == "ERR_CONFLICT")
        }
    }

    @Test("Abort: an unfinished multipart upload is discarded with its asset")
    func abortMultipart() async throws {
        try await LiveServer.with { server in
            let api = server.client()
            let bytes = try LiveServer.clip("sd_480p.mp4")
            let asset = try await api.createAsset(body: .json(.init(
                filename: "aborted.mp4", size: bytes.count, upload_type: .multipart
            ))).created.body.json
            let part = try #require(try await api.createUploadPartURLs(
                path: .init(id: asset.id), body: .json(.init(part_numbers: [1]))
            ).ok.body.json.parts.first)
            let (status, _) = try await presignedPUT(part.url, headers: part.headers.additionalProperties, body: bytes.prefix(part.size))
            #expect(status == 200)
            let stored = try await api.listUploadedParts(path: .init(id: asset.id)).ok.body.json
            #expect(stored.parts.map(\.part_number) == [1])
            #expect(!stored.parts[0].etag.isEmpty && !stored.parts[0].etag.contains("\""))

            _ = try await api.abortUpload(path: .init(id: asset.id)).noContent
            #expect(try await api.getAsset(path: .init(id: asset.id)).notFound.code == "ERR_NOT_FOUND")
            #expect(try await api.listUploadedParts(path: .init(id: asset.id)).notFound.code == "ERR_NOT_FOUND")
        }
    }

    @Test("Signing keys: create (the private key once), list, revoke")
    func signingKeys() async throws {
        try await LiveServer.with { server in
            let api = server.client()
            let created = try await api.createSigningKey().created.body.json
            #expect(created.private_key.hasPrefix("-----BEGIN PRIVATE KEY-----"))
            let second = try await api.createSigningKey(body: .json(.init())).created.body.json
            let listed = try await api.listSigningKeys().ok.body.json.signing_keys
            #expect(listed.map(\.id) == [created.id, second.id])
            #expect(listed.first?.created_at == created.created_at)
            _ = try await api.deleteSigningKey(path: .init(id: created.id)).noContent
            #expect(try await api.deleteSigningKey(path: .init(id: created.id)).notFound.code == "ERR_NOT_FOUND")
            #expect(try await api.listSigningKeys().ok.body.json.signing_keys.map(\.id) == [second.id])
            let asset = try await api.createAsset(body: .json(.init(filename: "k.mp4"))).created.body.json
            #expect(try await server.client(bearer: asset.token).listSigningKeys().forbidden.code == "ERR_FORBIDDEN")
            #expect(try await server.client(bearer: nil).createSigningKey().unauthorized.code == "ERR_UNAUTHORIZED")
        }
    }

    @Test("Error answers decode as the documented Error")
    func errors() async throws {
        try await LiveServer.with { server in
            let api = server.client()
            let anonymous = server.client(bearer: nil)
            #expect(try await anonymous.listAssets().unauthorized.code == "ERR_UNAUTHORIZED")
            #expect(try await server.client(bearer: "wrong").listWebhookDeliveries().unauthorized.code == "ERR_UNAUTHORIZED")
            let unknown = UUID().uuidString.lowercased()
            #expect(try await api.getAsset(path: .init(id: unknown)).notFound.code == "ERR_NOT_FOUND")
            #expect(try await api.deleteAsset(path: .init(id: unknown)).notFound.code == "ERR_NOT_FOUND")
            #expect(try await api.completeAsset(path: .init(id: unknown)).notFound.code == "ERR_NOT_FOUND")
            let huge = try await api.createAsset(body: .json(.init(filename: "huge.mp4", size: 10_000_000_000_000))).contentTooLarge
            #expect(try huge.code == "ERR_UPLOAD_TOO_LARGE")
            let badPassthrough = try await api.createAsset(body: .json(.init(filename: "x.mp4", passthrough: "a\u{1}b"))).badRequest
            #expect(try badPassthrough.code == "ERR_INVALID_PASSTHROUGH")
            // complete before any upload arrived.
            let asset = try await api.createAsset(body: .json(.init(filename: "empty.mp4"))).created.body.json
            #expect(try await api.completeAsset(path: .init(id: asset.id)).notFound.code == "ERR_UPLOAD_NOT_FOUND")
            // Another asset's token is refused.
            let other = try await api.createAsset(body: .json(.init(filename: "other.mp4"))).created.body.json
            #expect(try await server.client(bearer: other.token).getAsset(path: .init(id: asset.id)).forbidden.code == "ERR_FORBIDDEN")
        }
    }
}
