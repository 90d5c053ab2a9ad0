import Foundation
import HTTPTypes
import Hummingbird
import PulseJobs
import PulseStorage

/// tus 1.0.0 (https://tus.io/protocols/resumable-upload): an asset created with
/// `"upload_type": "tus"` is given `upload.url`, `/tus/{id}?token=...`, an upload resource that
/// already exists (no tus creation step), so any tus client takes it as its resume URL.
///
/// - `OPTIONS`: `Tus-Version`, `Tus-Extension: termination`, `Tus-Max-Size`.
/// - `HEAD`: `Upload-Offset` (the bytes stored so far), `Upload-Length`, `Cache-Control: no-store`.
/// - `PATCH` (`Content-Type: application/offset+octet-stream`, `Upload-Offset` equal to the
///   stored offset): the bytes are appended (`TusAppend`); answered `204` with the new
///   `Upload-Offset`. The last byte completes the upload: the asset goes on to processing by
///   itself, as after `POST .../complete`.
/// - `DELETE` (termination): an unfinished upload is aborted and its asset deleted, as
///   `DELETE /v1/assets/{id}/upload` and the reaper's abandoned uploads do.
///
/// Every request but `OPTIONS` sends `Tus-Resumable: 1.0.0` (else `412 ERR_TUS_VERSION`) and
/// the asset's token (`?token=`, as in the URL, or `Authorization: Bearer`) or the API key;
/// every response carries `Tus-Resumable: 1.0.0`, errors included (their body is the API's
/// JSON error). Refusals: another `Upload-Offset` `409 ERR_CONFLICT`; another content type
/// `415 ERR_UNSUPPORTED_MEDIA_TYPE`; bytes past `Upload-Length` `413 ERR_UPLOAD_TOO_LARGE`; a
/// PATCH while another PATCH to the same upload is being received (on any `serve`) `409
/// ERR_CONFLICT`; after `expires_at` `410 ERR_UPLOAD_EXPIRED`.
struct TusRoutes: Sendable {
    let dependencies: APIDependencies
    /// The uploads this process is receiving, shared with `/storage/` (one allowance for both).
    let gate: UploadGate

    /// How long a PATCH's hold on its upload lasts unless renewed (a third of it, while the body
    /// arrives): the wait before another `serve` may take an upload whose PATCH died with its process.
    static let lease: Duration = .seconds(20)

    /// The first segment of every tus path.
    static let root = "tus"

    func register(on router: Router<some RequestContext>) {
        let tus = router.group(RouterPath(Self.root))
        tus.on(":id", method: .options) { _, _ in self.options() }
        tus.head(":id") { request, context in try await self.head(request, id: context.parameters.get("id")) }
        tus.patch(":id") { request, context in try await self.patch(request, context, id: context.parameters.get("id")) }
        tus.delete(":id") { request, context in try await self.terminate(request, id: context.parameters.get("id")) }
    }

    // MARK: - POST /v1/assets with "upload_type": "tus"

    struct Instructions: Encodable {
        var method = "tus"
        var url: String
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case method, url
            case expiresAt = "expires_at"
        }
    }

    /// What the client is told of `asset`'s tus upload: its URL on `base`, carrying `token` (the
    /// asset's token, so the URL alone resumes the upload), and when it stops taking bytes.
    static func instructions(_ asset: Asset, base: String, token: String, expires: Double) -> Instructions {
        Instructions(url: "\(base)/tus/\(Links.id(asset.id))?token=\(token)", expiresAt: Timestamp.string(expires))
    }

    // MARK: - The protocol

    private func options() -> Response {
        var response = Response(status: .noContent)
        response.headers[TusProtocol.version] = TusProtocol.resumableVersion
        response.headers[TusProtocol.extensions] = "termination"
        response.headers[TusProtocol.maxSize] = String(dependencies.configuration.maxUploadBytes)
        return response
    }

    private func head(_ request: Request, id text: String?) async throws -> Response {
        let (_, upload) = try await open(request, id: text)
        var response = Response(status: .ok)
        response.headers[TusProtocol.uploadOffset] = String(upload.tusOffset ?? 0)
        response.headers[TusProtocol.uploadLength] = String(upload.plan.size)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func patch(_ request: Request, _ context: some RequestContext, id text: String?) async throws -> Response {
        let d = dependencies
        let (asset, upload) = try await open(request, id: text)
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == TusProtocol.patchContentType else {
            throw APIError(.unsupportedMediaType, "send the bytes as Content-Type: \(TusProtocol.patchContentType)")
        }
        guard let offsetText = request.headers[TusProtocol.uploadOffset], let offset = Int64(offsetText), offset >= 0,
              offsetText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw APIError(.invalidRequest, "send Upload-Offset: the number of bytes already stored (HEAD says)") }
        let stored = upload.tusOffset ?? 0
        guard offset == stored else { throw Self.offsetMismatch(stored) }
        guard asset.status == .awaitingUpload else {
            throw APIError(.conflict, "this upload is complete", headers: [TusProtocol.uploadOffset: String(stored)])
        }
        guard d.now().timeIntervalSince1970 < MultipartRoutes(dependencies: d).expiry(of: asset) else {
            throw APIError(.uploadExpired, "this upload's time is over; create a new asset to upload the file")
        }
        let remaining = upload.plan.size - offset
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > remaining {
            throw APIError(.uploadTooLarge, "this upload has \(remaining) bytes left of its Upload-Length \(upload.plan.size)")
        }
        guard let key = asset.sourceKey else { throw AssetLifecycleError.noUploadKey }

        // One PATCH at a time: in this process first (cheap), then on every process (the lease).
        let reservation = min(remaining, upload.plan.partSize)
        switch gate.admit(asset.id, bytes: reservation, cap: UploadGate.cap(limit: d.configuration.maxUploadBytes)) {
        case .admitted: break
        case .busy: throw Self.busy
        case .full:
            throw APIError(.unavailable, "the service is receiving too many uploads at once; try again shortly", headers: [.retryAfter: "5"])
        }
        defer { gate.release(asset.id, bytes: reservation) }
        let uploads = TusUploads(database: d.database, clock: d.assets.clock)
        let owner = UUID().uuidString.lowercased()
        guard try await uploads.lock(asset.id, owner: owner, for: Self.lease) else { throw Self.busy }
        let reached: Int64
        do {
            reached = try await withLease(uploads, asset.id, owner: owner) {
                // Read again under the lease: another PATCH may have moved it meanwhile.
                guard let current = try await d.lifecycle.multipartUpload(of: asset.id), current.tusOffset == offset else {
                    throw Self.offsetMismatch(try await d.lifecycle.multipartUpload(of: asset.id)?.tusOffset ?? 0)
                }
                let append = TusAppend(
                    store: d.store, uploads: uploads, upload: upload, key: key, owner: owner, directory: d.incomingDirectory,
                    logger: context.logger)
                return try await append.append(request.body, at: offset, pace: StorageRoutes(dependencies: d).pace)
            }
        } catch {
            try? await uploads.unlock(asset.id, owner: owner)
            throw error
        }
        try await uploads.unlock(asset.id, owner: owner)
        if reached == upload.plan.size {
            // The last byte: on to processing, as after `complete` (counted once).
            if try await d.lifecycle.completeTus(asset, upload, sizeLimit: d.configuration.maxUploadBytes) {
                d.metrics.uploadsCompleted.increment()
            }
        }
        var response = Response(status: .noContent)
        response.headers[TusProtocol.uploadOffset] = String(reached)
        return response
    }

    /// Termination: the unfinished upload is aborted and its asset, which exists only for it, deleted.
    private func terminate(_ request: Request, id text: String?) async throws -> Response {
        let (asset, _) = try await open(request, id: text)
        guard asset.status == .awaitingUpload else {
            throw APIError(.conflict, "this upload is complete; delete the asset instead (DELETE /v1/assets/{id})")
        }
        try await dependencies.lifecycle.delete(asset.id)
        return Response(status: .noContent)
    }

    // MARK: - Helpers

    /// The asset and its tus upload, for a request of the right protocol version with the asset's
    /// token or the API key.
    private func open(_ request: Request, id text: String?) async throws -> (Asset, MultipartUpload) {
        guard request.headers[TusProtocol.resumable] == TusProtocol.resumableVersion else {
            throw APIError(
                .tusVersion, "send Tus-Resumable: \(TusProtocol.resumableVersion)",
                headers: [TusProtocol.version: TusProtocol.resumableVersion])
        }
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAccess(to: id, request)
        let asset = try await d.existingAsset(id)
        guard let upload = try await d.lifecycle.multipartUpload(of: id), upload.isTus else {
            throw APIError(.notFound, "this asset's upload is not a tus upload")
        }
        return (asset, upload)
    }

    /// Runs `body` while renewing `owner`'s lease on the upload; a lease found lost cancels it.
    private func withLease<T: Sendable>(
        _ uploads: TusUploads, _ id: UUID, owner: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.lease / 3)
                    guard try await uploads.renew(id, owner: owner, for: Self.lease) else { throw Self.busy }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }

    private static func offsetMismatch(_ stored: Int64) -> APIError {
        APIError(.conflict, "Upload-Offset is not the stored offset \(stored); HEAD the upload and resume from there",
                 headers: [TusProtocol.uploadOffset: String(stored)])
    }

    private static let busy = APIError(.conflict, "another PATCH to this upload is being received; wait for it to finish")
}

/// The tus 1.0.0 header names and values, in one place (the routes and the CORS lists use them).
enum TusProtocol {
    static let resumableVersion = "1.0.0"
    static let patchContentType = "application/offset+octet-stream"
    static let resumable = HTTPField.Name("Tus-Resumable")!
    static let version = HTTPField.Name("Tus-Version")!
    static let extensions = HTTPField.Name("Tus-Extension")!
    static let maxSize = HTTPField.Name("Tus-Max-Size")!
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
    static let uploadMetadata = HTTPField.Name("Upload-Metadata")!

    /// What a browser's tus client sends, for the CORS preflight.
    static let requestHeaders: [HTTPField.Name] = [resumable, uploadOffset, uploadLength, uploadMetadata]
    /// What a browser's tus client must be able to read.
    static let responseHeaders: [String] = [resumable, version, extensions, maxSize, uploadOffset, uploadLength].map(\.canonicalName)
}

/// `Tus-Resumable: 1.0.0` on every answer under `/tus/`, errors included: it sits outside the
/// shared `ErrorMiddleware` and marks the answer that middleware rendered (a 405 for a method the
/// tus routes do not take as well as a route's own refusal).
struct TusResponseMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if request.uri.path.hasPrefix("/\(TusRoutes.root)/") {
            response.headers[TusProtocol.resumable] = TusProtocol.resumableVersion
        }
        return response
    }
}
