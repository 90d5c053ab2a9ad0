import Foundation
import Hummingbird
import PulseJobs
import PulseStorage

/// `/v1/assets`: create, complete, read, list and delete assets.
struct AssetRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<some RequestContext>) {
        let assets = router.group("v1/assets")
        assets.post { request, _ in try await self.create(request) }
        assets.get { request, _ in try await self.list(request) }
        assets.get(":id") { request, context in try await self.show(request, id: context.parameters.get("id")) }
        assets.delete(":id") { request, context in try await self.delete(request, id: context.parameters.get("id")) }
        assets.post(":id/complete") { request, context in try await self.complete(request, id: context.parameters.get("id")) }
        assets.post(":id/playback-tokens") { request, context in
            try await PlaybackTokenRoute(dependencies: self.dependencies).mint(request, id: context.parameters.get("id"))
        }
        MultipartRoutes(dependencies: dependencies).register(on: assets)
        // Reached only when the request was not a WebSocket upgrade (or the upgrade was refused):
        // answers with the reason, in JSON.
        assets.get(":id/events") { request, context -> Response in
            let id = try APIDependencies.assetID(context.parameters.get("id"))
            try self.dependencies.auth.requireAccess(to: id, request)
            _ = try await self.dependencies.existingAsset(id)
            throw APIError(.upgradeRequired, "this endpoint is a WebSocket", headers: [.upgrade: "websocket"])
        }
    }

    // MARK: - POST /v1/assets

    struct CreateRequest: Codable, StrictJSONBody {
        typealias Fields = CodingKeys
        var filename: String
        var size: Int64?
        var contentType: String?
        var passthrough: String?
        var playbackPolicy: String?
        var mp4: Bool?
        /// `put` (the default: one PUT to `upload.url`), `multipart` (MultipartRoutes) or `tus` (TusRoutes).
        var uploadType: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case filename, size, passthrough, mp4
            case contentType = "content_type"
            case playbackPolicy = "playback_policy"
            case uploadType = "upload_type"
        }
    }

    struct UploadInstructions: Encodable {
        var method = "PUT"
        var url: String
        var headers: [String: String]
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case method, url, headers
            case expiresAt = "expires_at"
        }
    }

    /// How the file is to be sent: one PUT, or in parts.
    enum Upload: Encodable {
        case put(UploadInstructions)
        case multipart(MultipartRoutes.Instructions)
        case tus(TusRoutes.Instructions)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .put(let instructions): try instructions.encode(to: encoder)
            case .multipart(let instructions): try instructions.encode(to: encoder)
            case .tus(let instructions): try instructions.encode(to: encoder)
            }
        }
    }

    struct CreateResponse: Encodable {
        var id: String
        var status: String
        var upload: Upload
        var token: String
        var tokenExpiresAt: String
        var passthrough: String?
        var playbackPolicy: String
        var mp4: Bool

        enum CodingKeys: String, CodingKey {
            case id, status, upload, token, passthrough, mp4
            case tokenExpiresAt = "token_expires_at"
            case playbackPolicy = "playback_policy"
        }

        func encode(to encoder: any Encoder) throws {
            // Spelled out so that a nil passthrough is sent as null rather than left out.
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(upload, forKey: .upload)
            try container.encode(token, forKey: .token)
            try container.encode(tokenExpiresAt, forKey: .tokenExpiresAt)
            try container.encode(passthrough, forKey: .passthrough)
            try container.encode(playbackPolicy, forKey: .playbackPolicy)
            try container.encode(mp4, forKey: .mp4)
        }
    }

    func create(_ request: Request) async throws -> Response {
        let d = dependencies
        try d.auth.requireAPIKey(request)
        let body = try await JSON.decode(CreateRequest.self, from: request)
        let filename = body.filename.trimmingCharacters(in: .whitespacesAndNewlines)
        // Bytes, not characters: one character may be any number of combining marks.
        guard !filename.isEmpty, filename.utf8.count <= 255 else {
            throw APIError(.invalidRequest, "filename must be 1 to 255 bytes of UTF-8")
        }
        if let size = body.size {
            guard size >= 0 else { throw APIError(.invalidRequest, "size must not be negative") }
            guard size <= d.configuration.maxUploadBytes else { throw Self.tooLarge(d.configuration.maxUploadBytes) }
        }
        let contentType = body.contentType ?? MediaType.forUpload(named: filename)
        guard Self.isValidContentType(contentType) else {
            throw APIError(.invalidRequest, "content_type must look like type/subtype")
        }
        let passthrough = try CreateOptions.passthrough(body.passthrough)
        let policy = try CreateOptions.playbackPolicy(body.playbackPolicy)
        let idempotencyKey = try CreateOptions.idempotencyKey(request)

        let uploadType = body.uploadType ?? "put"
        guard ["put", "multipart", "tus"].contains(uploadType) else {
            throw APIError(.invalidRequest, "upload_type must be put, multipart or tus")
        }
        // A tus upload is a multipart upload the server sends the parts of (TusRoutes).
        let parts = uploadType == "put" ? nil : try MultipartRoutes(dependencies: d).plan(size: body.size)
        let new = AssetLifecycle.newUpload(
            filename: Self.sanitisedFilename(filename), originalName: filename, declaredSize: body.size,
            passthrough: passthrough, playbackPolicy: policy, mp4: body.mp4 ?? false)
        let idempotency = try idempotencyKey.map { key in
            let effective = CreateRequest(
                filename: body.filename, size: body.size, contentType: contentType, passthrough: passthrough,
                playbackPolicy: policy.rawValue, mp4: body.mp4 ?? false, uploadType: uploadType)
            return IdempotencyKeys.Request(key: key, fingerprint: try CreateOptions.fingerprint(effective))
        }
        switch try await d.lifecycle.create(new, idempotency: idempotency, parts: parts, tus: uploadType == "tus", contentType: contentType) {
        case .created(let asset, let multipart):
            d.metrics.assetsCreated.increment()
            // The asset's creation is the one moment its upload window and its first token count from.
            return try await createdResponse(
                asset, multipart, contentType: contentType, request: request, now: Date(timeIntervalSince1970: asset.createdAt))
        case .replayed(let asset, let multipart):
            // The first response again, rendered now (fresh upload URL and token).
            var response = try await createdResponse(asset, multipart, contentType: contentType, request: request, now: d.now())
            response.headers[CreateOptions.replayedHeader] = "true"
            return response
        }
    }

    /// `201 Created` with the upload instructions (`multipart`, the asset's multipart upload; `tus`,
    /// its tus upload; or a single PUT) and the asset's token, for a new asset or a replay; the
    /// upload URL and the token last from `now`.
    private func createdResponse(
        _ asset: Asset, _ multipart: MultipartUpload?, contentType: String, request: Request, now: Date
    ) async throws -> Response {
        let d = dependencies
        guard let key = asset.sourceKey else { throw APIError(.internalError, "the new asset has no upload key") }
        let tokenExpiry = Int64(now.timeIntervalSince1970) + d.configuration.tokenLifetime.components.seconds
        let token = d.auth.tokens.token(for: asset.id, expires: tokenExpiry)
        let upload: Upload
        if let multipart, multipart.isTus {
            upload = .tus(TusRoutes.instructions(
                asset, base: d.links.base(for: request), token: token, expires: MultipartRoutes(dependencies: d).expiry(of: asset)))
        } else if let multipart {
            upload = .multipart(MultipartRoutes(dependencies: d).instructions(asset, multipart))
        } else {
            let url = try await d.links.uploadURL(key: key, base: d.links.base(for: request), now: now)
            upload = .put(UploadInstructions(
                url: url.url, headers: ["Content-Type": contentType], expiresAt: Timestamp.string(url.expires.timeIntervalSince1970)))
        }

        var response = try JSON.response(
            CreateResponse(
                id: Links.id(asset.id),
                status: asset.status.rawValue,
                upload: upload,
                token: token,
                tokenExpiresAt: Timestamp.string(Double(tokenExpiry)),
                passthrough: asset.passthrough,
                playbackPolicy: asset.playbackPolicy.rawValue,
                mp4: asset.mp4
            ),
            status: .created
        )
        response.headers[.location] = "/v1/assets/\(Links.id(asset.id))"
        return response
    }

    // MARK: - POST /v1/assets/{id}/complete

    /// Idempotent: the first call checks the upload, records which object it is (size with ETag or
    /// modification time: the worker refuses a source that is no longer that object, with
    /// `ERR_SOURCE_CHANGED`) and queues processing; later calls (and calls on an asset already
    /// past that point) answer with the asset as it is. From then on the upload URL takes nothing.
    func complete(_ request: Request, id text: String?) async throws -> Response {
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAccess(to: id, request)
        var asset = try await d.existingAsset(id)
        if asset.status == .awaitingUpload {
            // In parts: the body names them; checked and assembled first, then accepted like any upload.
            var multipart: (upload: MultipartUpload, named: [CompletedPart])?
            let upload = try await d.lifecycle.multipartUpload(of: id)
            if let upload, !upload.isTus { multipart = (upload, try await MultipartRoutes.namedParts(request)) }
            // A concurrent complete may have moved it on already: counted once.
            let moved: Bool
            if let upload, upload.isTus {
                // A tus upload completes itself with its last byte; here only once every byte is
                // stored (its last PATCH ended before it could complete it).
                guard upload.tusOffset == upload.plan.size else {
                    throw APIError(.conflict, "the tus upload has \(upload.tusOffset ?? 0) of its \(upload.plan.size) bytes; PATCH the rest")
                }
                moved = try await d.lifecycle.completeTus(asset, upload, sizeLimit: d.configuration.maxUploadBytes)
            } else {
                moved = try await d.lifecycle.complete(asset, multipart: multipart, sizeLimit: d.configuration.maxUploadBytes)
            }
            if moved { d.metrics.uploadsCompleted.increment() }
            asset = try await d.existingAsset(id)
        }
        let resource = try await AssetResource.make(asset, links: d.links, base: d.links.base(for: request))
        return try JSON.response(resource, status: .accepted)
    }

    // MARK: - GET /v1/assets/{id}

    func show(_ request: Request, id text: String?) async throws -> Response {
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAccess(to: id, request)
        let asset = try await d.existingAsset(id)
        return try JSON.response(try await AssetResource.make(asset, links: d.links, base: d.links.base(for: request)))
    }

    // MARK: - GET /v1/assets

    struct ListResponse: Encodable {
        var assets: [AssetResource]
        var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case assets
            case nextCursor = "next_cursor"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(assets, forKey: .assets)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    func list(_ request: Request) async throws -> Response {
        let d = dependencies
        try d.auth.requireAPIKey(request)
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query.get("limit") {
            guard let value = Int(text), (1...100).contains(value) else {
                throw APIError(.invalidRequest, "limit must be a whole number from 1 to 100")
            }
            limit = value
        }
        var cursor: AssetCursor?
        if let text = query.get("cursor"), !text.isEmpty {
            guard let parsed = AssetCursor(token: text) else { throw APIError(.invalidRequest, "cursor is not one this API gave") }
            cursor = parsed
        }
        // Filters: one's own reference (`passthrough`, compared as given) and the status.
        let passthrough = try query.get("passthrough").map { try CreateOptions.passthrough(String($0)) } ?? nil
        var status: AssetStatus?
        if let text = query.get("status") {
            guard let value = AssetStatus(rawValue: String(text)) else {
                throw APIError(.invalidRequest, "status must be one of \(AssetStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = value
        }
        let page = try await d.assets.list(limit: limit, after: cursor, passthrough: passthrough, status: status)
        let base = d.links.base(for: request)
        var resources: [AssetResource] = []
        for asset in page.assets { resources.append(try await AssetResource.make(asset, links: d.links, base: base)) }
        return try JSON.response(ListResponse(assets: resources, nextCursor: page.next?.token))
    }

    // MARK: - DELETE /v1/assets/{id}

    func delete(_ request: Request, id text: String?) async throws -> Response {
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAPIKey(request)
        // A delete that began and did not finish (its row is hidden from everything else) may be
        // sent again to finish it.
        guard try await d.assets.row(id) != nil else { throw APIError(.notFound, "no such asset") }
        // Marked as being deleted first (workers stop storing its objects), then jobs, objects,
        // row, and the terminal event that ends open event sockets: the same operation the reaper
        // uses. Someone else deleting it meanwhile is no error.
        try await d.lifecycle.delete(id)
        return Response(status: .noContent)
    }

    // MARK: - Helpers

    /// The size limit's refusal, for a declared size or a body found larger (worded once, by the lifecycle).
    static func tooLarge(_ limit: Int64) -> APIError {
        APIError(AssetLifecycleError.uploadTooLarge(limit: limit))
    }

    /// The last path component, reduced to ASCII letters, digits, `.`, `_` and `-` (others become
    /// `_`), without leading dots, at most 100 characters with the extension kept: safe as an
    /// object key segment on every store and in every URL.
    static func sanitisedFilename(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String(String.UnicodeScalarView(last.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? scalar : "_"
        }))
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        if cleaned.count > 100 {
            let ext = cleaned.split(separator: ".").count > 1 ? String(cleaned.split(separator: ".").last!.prefix(10)) : ""
            cleaned = String(cleaned.prefix(ext.isEmpty ? 100 : 99 - ext.count)) + (ext.isEmpty ? "" : "." + ext)
        }
        return cleaned.allSatisfy({ $0 == "_" || $0 == "." }) ? "upload" : cleaned
    }

    /// `type/subtype` with optional parameters, printable ASCII only (it becomes a header).
    static func isValidContentType(_ value: String) -> Bool {
        guard !value.isEmpty, value.count <= 127, value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else { return false }
        let mediaType = value.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces)
        let parts = mediaType.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
    }
}
