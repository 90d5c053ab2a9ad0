import Foundation
import Hummingbird
import NIOCore
import NIOFileSystem
import PulseStorage

/// `PUT` and `GET /storage/{key}?expires=&signature=`: the local store's "presigned" URLs, served
/// only with a valid `LocalURLSigner` signature for that method and key. Uploads stream to a file
/// (never whole in memory) and are moved into the store once complete, so a half-sent upload is
/// never visible as an object.
struct StorageRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<some RequestContext>) {
        router.put("storage/**") { request, context in try await self.upload(request, context) }
        router.get("storage/**") { request, context in try await self.download(request, context) }
        router.head("storage/**") { request, context in try await self.download(request, context) }
    }

    private func upload(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let key = try authorisedKey(request, context, method: "PUT")
        let limit = dependencies.configuration.maxUploadBytes
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > limit {
            throw AssetRoutes.tooLarge(limit)
        }
        try FileManager.default.createDirectory(atPath: dependencies.incomingDirectory, withIntermediateDirectories: true)
        let partial = "\(dependencies.incomingDirectory)/\(UUID().uuidString.lowercased()).part"
        do {
            let received = try await Self.write(request.body, to: partial, limit: limit)
            try await dependencies.store.put(
                fileAt: partial, key: key, contentType: request.headers[.contentType], mode: .move)
            context.logger.debug("upload stored", metadata: ["storage.key": "\(key)", "upload.bytes": "\(received)"])
        } catch {
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

    /// The decoded key of a request whose signature is valid for `method`.
    private func authorisedKey(_ request: Request, _ context: some RequestContext, method: String) throws -> String {
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
                now: dependencies.now()
            )
        } catch let error as StorageError where error.code == .expired {
            throw APIError(.urlExpired, "the URL has expired; ask for a new one")
        } catch {
            throw APIError(.invalidSignature, "the URL's signature is not valid")
        }
        return key
    }

    /// Streams the body to `path`, refusing it once it passes `limit` bytes.
    static func write(_ body: RequestBody, to path: String, limit: Int64) async throws -> Int64 {
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(path), options: .newFile(replaceExisting: true)) { handle in
            try await handle.withBufferedWriter { writer in
                var received: Int64 = 0
                for try await buffer in body {
                    received += Int64(buffer.readableBytes)
                    guard received <= limit else { throw AssetRoutes.tooLarge(limit) }
                    try await writer.write(contentsOf: buffer)
                }
                return received
            }
        }
    }
}
