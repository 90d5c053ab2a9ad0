import Foundation
import Hummingbird
import NIOCore
import NIOFileSystem
import PulseJobs
import PulseStorage
import Synchronization

/// `PUT` and `GET /storage/{key}?expires=&signature=`: the local store's "presigned" URLs, served
/// only with a valid `LocalURLSigner` signature for that method and key. Uploads stream to a file
/// (never whole in memory) and are moved into the store once complete, so a half-sent upload is
/// never visible as an object.
///
/// An upload URL is a one-time door: a PUT is taken only for an asset that exists and is still
/// `awaiting_upload` (checked before the body is read, and again before the file is moved into
/// the store), so once `complete` has accepted the upload nothing can replace it (`409
/// ERR_CONFLICT`). One upload per asset is received at a time (another PUT meanwhile is `409
/// ERR_CONFLICT` before its body is read), and all uploads together may reserve at most
/// `UploadGate.allowance` uploads' worth of bytes (each reserves its `Content-Length`, or the
/// limit when it sends none); past that a PUT is `503 ERR_UNAVAILABLE` with `Retry-After`. An upload
/// that arrives slower than its ``UploadPace`` is cut off and gives its share back.
struct StorageRoutes: Sendable {
    let dependencies: APIDependencies
    /// The uploads this process is receiving (shared with the tus routes).
    var gate = UploadGate()

    func register(on router: Router<some RequestContext>) {
        router.put("storage/**") { request, context in try await self.upload(request, context) }
        router.get("storage/**") { request, context in try await self.download(request, context) }
        router.head("storage/**") { request, context in try await self.download(request, context) }
    }

    private func upload(_ request: Request, _ context: some RequestContext) async throws -> Response {
        // A part of a multipart upload (its URL signs `part` and `upload` too): StorageRoutes+Parts.
        if request.uri.queryParameters.get("part") != nil { return try await uploadPart(request, context) }
        let key = try authorisedKey(request, context, method: "PUT")
        let limit = dependencies.configuration.maxUploadBytes
        let declared = request.headers[.contentLength].flatMap(Int64.init)
        if let declared, declared > limit {
            throw AssetRoutes.tooLarge(limit)
        }
        // The door: only the asset's own upload key, only while it waits for its upload.
        let id = try await openUpload(key)
        let reservation = declared ?? limit
        switch gate.admit(id, bytes: reservation, cap: UploadGate.cap(limit: limit)) {
        case .admitted: break
        case .busy:
            throw APIError(.conflict, "another upload to this asset is in progress; wait for it to finish")
        case .full:
            throw APIError(.unavailable, "the service is receiving too many uploads at once; try again shortly", headers: [.retryAfter: "5"])
        }
        defer { gate.release(id, bytes: reservation) }

        try FileManager.default.createDirectory(atPath: dependencies.incomingDirectory, withIntermediateDirectories: true)
        let partial = "\(dependencies.incomingDirectory)/\(UUID().uuidString.lowercased()).part"
        do {
            let received = try await Self.write(request.body, to: partial, limit: min(limit, reservation), pace: pace) { [gate] in
                gate.release(id, bytes: reservation)
            }
            if let declared, received != declared {
                throw APIError(.invalidRequest, "the upload ended before the \(declared) bytes it announced")
            }
            // `complete` (or a delete) may have come while the body arrived: the door is checked
            // again just before the file becomes the object. (A complete in the instant between
            // the two is caught by the worker: the source identity recorded by complete differs.)
            _ = try await openUpload(key)
            try await dependencies.store.put(
                fileAt: partial, key: key, contentType: request.headers[.contentType], mode: .move)
            context.logger.debug("upload stored", metadata: ["storage.key": "\(key)", "upload.bytes": "\(received)"])
        } catch {
            // The share goes back before the partial file does: once it is gone, the next upload
            // is admitted.
            gate.release(id, bytes: reservation)
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        try? FileManager.default.removeItem(atPath: partial)
        return Response(status: .ok)
    }

    private func download(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let key = try authorisedKey(request, context, method: "GET")
        return try await ObjectResponder.respond(to: request, store: dependencies.store, key: key, cacheControl: "private, max-age=60")
    }

    /// The asset whose upload `key` is, when it may still receive it: it exists, is not being
    /// deleted, is `awaiting_upload`, and `key` is its upload key. Otherwise `404 ERR_NOT_FOUND`
    /// (no such asset, or not an upload key) or `409 ERR_CONFLICT` (the upload was completed).
    private func openUpload(_ key: String) async throws -> UUID {
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "uploads", let id = UUID(uuidString: String(parts[1])),
              StorageKeys.uploadsPrefix(id) + parts[2] == key
        else { throw APIError(.notFound, "this URL takes no upload") }
        guard let asset = try await dependencies.assets.get(id), asset.sourceKey == key else {
            throw APIError(.notFound, "no such asset; its upload URL no longer takes uploads")
        }
        guard asset.status == .awaitingUpload else {
            throw APIError(.conflict, "this asset's upload was already completed; create a new asset to upload another file")
        }
        return id
    }

    /// The decoded key of a request whose signature is valid for `method` (and the signed `query`, if any).
    func authorisedKey(_ request: Request, _ context: some RequestContext, method: String, query signed: [String: String] = [:]) throws -> String {
        guard let signer = dependencies.localURLSigner else { throw APIError(.notFound, "not found") }
        let segments = try context.parameters.getCatchAll().map { segment in
            guard let decoded = String(segment).removingPercentEncoding, !decoded.isEmpty else {
                throw APIError(.invalidSignature, "the URL is not valid")
            }
            return decoded
        }
        let key = segments.joined(separator: "/")
        let query = request.uri.queryParameters
        do {
            try signer.verify(
                method: method, key: key,
                expires: query.get("expires") ?? "", signature: query.get("signature") ?? "",
                query: signed, now: dependencies.now()
            )
        } catch let error as StorageError where error.code == .expired {
            throw APIError(.urlExpired, "the URL has expired; ask for a new one")
        } catch {
            throw APIError(.invalidSignature, "the URL's signature is not valid")
        }
        return key
    }

    /// The slowest an upload may arrive and keep its share of the allowance.
    var pace: UploadPace {
        UploadPace(bytesPerSecond: dependencies.configuration.uploadMinimumBytesPerSecond, window: dependencies.configuration.uploadRateWindow)
    }

    /// Streams the body to `path`, refusing it once it passes `limit` bytes, and cutting it off
    /// when it arrives slower than `pace`. A body that fails calls `release` (the upload's share
    /// back) before its temporary file goes: once the file is gone, the next upload is admitted.
    static func write(
        _ body: RequestBody, to path: String, limit: Int64, pace: UploadPace, release: @escaping @Sendable () -> Void
    ) async throws -> Int64 {
        try await pace.enforce { progress in
            try await receive(body, to: path, limit: limit, progress: progress, release: release)
        }
    }

    private static func receive(
        _ body: RequestBody, to path: String, limit: Int64, progress: UploadProgress, release: @Sendable () -> Void
    ) async throws -> Int64 {
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(path), options: .newFile(replaceExisting: true)) { handle in
            do {
                return try await receive(body, into: handle, limit: limit, progress: progress)
            } catch {
                release()
                throw error
            }
        }
    }

    private static func receive(
        _ body: RequestBody, into handle: WriteFileHandle, limit: Int64, progress: UploadProgress
    ) async throws -> Int64 {
        try await handle.withBufferedWriter { writer in
            var received: Int64 = 0
            var buffers = body.makeAsyncIterator()
            while let buffer = try await buffers.nextUploadBuffer() {
                received += Int64(buffer.readableBytes)
                progress.add(buffer.readableBytes)
                guard received <= limit else { throw AssetRoutes.tooLarge(limit) }
                try await writer.write(contentsOf: buffer)
            }
            return received
        }
    }
}

/// The uploads one process is receiving through `/storage/`: at most one per asset, and at most
/// `cap(limit:)` bytes reserved by all of them together (each reserves its `Content-Length`, or
/// the whole limit when it sends none), so parallel PUTs cannot open a temporary file each with
/// the full limit to fill.
final class UploadGate: Sendable {
    /// How many uploads of the largest allowed size may be received at once.
    static let allowance: Int64 = 4

    /// The bytes all uploads together may reserve: `allowance` times the per-upload limit.
    static func cap(limit: Int64) -> Int64 {
        limit > Int64.max / allowance ? Int64.max : limit * allowance
    }

    enum Admission: Equatable {
        case admitted
        /// Another upload to the same asset is being received.
        case busy
        /// The bytes reserved by the uploads being received would pass the cap.
        case full
    }

    /// An upload being received: a whole one (`part` 0) or one part of a multipart upload, so
    /// the parts of one asset may arrive side by side, each part once at a time.
    private struct Slot: Hashable {
        var id: UUID
        var part: Int
    }

    private struct State {
        var assets: Set<Slot> = []
        var reserved: Int64 = 0
    }

    private let state = Mutex(State())

    /// Admits an upload of at most `bytes` to asset `id`, or says why not. An admitted upload must
    /// be `release`d with the same numbers.
    func admit(_ id: UUID, part: Int = 0, bytes: Int64, cap: Int64) -> Admission {
        state.withLock { state in
            let slot = Slot(id: id, part: part)
            if state.assets.contains(slot) { return .busy }
            if bytes > cap - state.reserved { return .full }
            state.assets.insert(slot)
            state.reserved += bytes
            return .admitted
        }
    }

    /// Gives an admitted upload's share back; a second call for the same upload does nothing.
    func release(_ id: UUID, part: Int = 0, bytes: Int64) {
        state.withLock { state in
            if state.assets.remove(Slot(id: id, part: part)) != nil { state.reserved -= bytes }
        }
    }
}
