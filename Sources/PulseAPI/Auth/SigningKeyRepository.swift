import Foundation
import PulseDatabase

/// A signing key as the server keeps it: the public half only. The private half is handed to
/// the caller once, when the key is created, and never stored.
struct SigningKey: Sendable, Hashable {
    var id: UUID
    /// The RSA public key, PEM (`BEGIN PUBLIC KEY`, SubjectPublicKeyInfo).
    var publicKeyPEM: String
    /// Epoch seconds.
    var createdAt: Double
}

/// Typed access to `signing_keys`, the same on both engines. Revoking a key deletes its row, so an
/// unknown key and a revoked one are the same thing to the verifier.
struct SigningKeyRepository: Sendable {
    let database: any Database

    func insert(_ key: SigningKey) async throws {
        try await database.execute(
            "INSERT INTO signing_keys (id, public_key, created_at) VALUES ($1, $2, $3)",
            [.text(Self.text(key.id)), .text(key.publicKeyPEM), .double(key.createdAt)]
        )
    }

    /// Every key, oldest first.
    func list() async throws -> [SigningKey] {
        try await database.query("SELECT id, public_key, created_at FROM signing_keys ORDER BY created_at, id", []).map { row in
            let text = try row.text("id")
            guard let id = UUID(uuidString: text) else {
                throw DatabaseError(.decoding, message: "signing_keys holds an id that is not a UUID")
            }
            return SigningKey(id: id, publicKeyPEM: try row.text("public_key"), createdAt: try row.double("created_at"))
        }
    }

    /// The key's public half, or nil when there is no such key (never created, or revoked).
    func publicKey(_ id: UUID) async throws -> String? {
        try await database.queryFirst("SELECT public_key FROM signing_keys WHERE id = $1", [.text(Self.text(id))])?.text("public_key")
    }

    /// Revokes the key; false when there was no such key.
    func delete(_ id: UUID) async throws -> Bool {
        try await database.execute("DELETE FROM signing_keys WHERE id = $1", [.text(Self.text(id))]) > 0
    }

    /// Ids are stored as the API spells them.
    private static func text(_ id: UUID) -> String { Links.id(id) }
}
