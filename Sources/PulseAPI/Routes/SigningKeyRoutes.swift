import CryptoExtras
import Foundation
import Hummingbird
import JWTKit
import NIOCore
import NIOPosix

/// `/v1/signing-keys` (API key): the keys a backend signs playback JWTs with, offline
/// (``PlaybackJWTVerifier``). `POST` creates one and returns its private key, once; `GET` lists
/// them; `DELETE /v1/signing-keys/{id}` revokes one.
struct SigningKeyRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<some RequestContext>) {
        let keys = router.group("v1/signing-keys")
        keys.post { request, _ in try await self.create(request) }
        keys.get { request, _ in try await self.list(request) }
        keys.delete(":id") { request, context in try await self.revoke(request, id: context.parameters.get("id")) }
    }

    struct CreatedKey: Encodable {
        var id: String
        /// RSA 2048, PEM, PKCS#8 (`BEGIN PRIVATE KEY`).
        var privateKey: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id
            case privateKey = "private_key"
            case createdAt = "created_at"
        }
    }

    struct ListedKey: Encodable {
        var id: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id
            case createdAt = "created_at"
        }
    }

    struct ListResponse: Encodable {
        var signingKeys: [ListedKey]

        enum CodingKeys: String, CodingKey { case signingKeys = "signing_keys" }
    }

    private var repository: SigningKeyRepository { SigningKeyRepository(database: dependencies.database) }

    func create(_ request: Request) async throws -> Response {
        try dependencies.auth.requireAPIKey(request)
        try await Self.requireNoFields(request)
        // Generating an RSA key takes tens of milliseconds of CPU: off the cooperative pool.
        let privateKey = try await NIOThreadPool.singleton.runIfActive { try _RSA.Signing.PrivateKey(keySize: .bits2048) }
        let key = SigningKey(id: UUID(), publicKeyPEM: privateKey.publicKey.pemRepresentation, createdAt: dependencies.now().timeIntervalSince1970)
        try await repository.insert(key)
        return try JSON.response(
            CreatedKey(id: Links.id(key.id), privateKey: privateKey.pkcs8PEMRepresentation, createdAt: Timestamp.string(key.createdAt)),
            status: .created)
    }

    func list(_ request: Request) async throws -> Response {
        try dependencies.auth.requireAPIKey(request)
        let keys = try await repository.list()
        return try JSON.response(ListResponse(signingKeys: keys.map { ListedKey(id: Links.id($0.id), createdAt: Timestamp.string($0.createdAt)) }))
    }

    func revoke(_ request: Request, id text: String?) async throws -> Response {
        try dependencies.auth.requireAPIKey(request)
        guard let text, let id = UUID(uuidString: text) else { throw APIError(.notFound, "no such signing key") }
        guard try await repository.delete(id) else { throw APIError(.notFound, "no such signing key") }
        // At once here; other processes notice when their cached entry expires.
        dependencies.signingKeys.forget(id)
        return Response(status: .noContent)
    }

    /// The create takes no options: no body, or a JSON object with no fields. A field is refused,
    /// as on every JSON body, rather than ignored.
    private static func requireNoFields(_ request: Request) async throws {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: JSON.maxRequestBytes)
        } catch {
            throw APIError(.invalidJSON, "the request body is larger than \(JSON.maxRequestBytes) bytes")
        }
        let data = Data(buffer.readableBytesView)
        guard !data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw APIError(.invalidJSON, "the request body is not a JSON object")
        }
        if let unknown = object.keys.sorted().first { throw APIError(.invalidRequest, "unknown field \(unknown)") }
    }
}
