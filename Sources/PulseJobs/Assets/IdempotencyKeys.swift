public import Foundation
public import PulseDatabase

/// `Idempotency-Key` on asset creation (draft-ietf-httpapi-idempotency-key-header): a key, with the
/// fingerprint of the request it came with, names at most one asset for `lifetime` (24 h).
///
/// The asset and its key row are inserted in one transaction, and the key is the primary key, so
/// concurrent requests with one key create one asset on both engines: on PostgreSQL the second
/// insert waits for the first transaction and then finds the key taken; SQLite serialises writers.
/// An expired key is forgotten when it is next used (and all expired keys are removed then); a
/// key's row goes with its asset.
public struct IdempotencyKeys: Sendable {
    public let database: any Database
    public let clock: EpochClock
    /// How long a key names its asset.
    public static let lifetime: Double = 24 * 3600

    public init(database: any Database, clock: EpochClock = .system) {
        self.database = database
        self.clock = clock
    }

    /// A create's key and the fingerprint of its request (what makes two creates the same).
    public struct Request: Sendable, Hashable {
        public var key: String
        public var fingerprint: String

        public init(key: String, fingerprint: String) {
            self.key = key
            self.fingerprint = fingerprint
        }
    }

    /// What a create with a key came to.
    public enum Outcome: Sendable, Hashable {
        /// The key was new: this asset was created now.
        case created(Asset)
        /// The key was used before with the same fingerprint: the asset it created (nil when that
        /// asset is being deleted).
        case replayed(Asset?)
        /// The key was used before with another request.
        case reused
    }

    /// Creates `new` under `key` unless the key is already in use (and not expired).
    public func create(_ new: NewAsset, key: String, fingerprint: String) async throws -> Outcome {
        // Twice at most: the row found taken may vanish (expired, or its asset deleted) before it
        // is read, and then the key is free again.
        for _ in 0..<2 {
            let now = clock.now()
            let cutoff = now - Self.lifetime
            do {
                let asset = try await database.transaction { tx in
                    _ = try await tx.execute("DELETE FROM idempotency_keys WHERE created_at <= $1", [.double(cutoff)])
                    let asset = try await AssetRepository.insert(new, now: now, on: tx)
                    let claimed = try await tx.execute(
                        """
                        INSERT INTO idempotency_keys (idempotency_key, fingerprint, asset_id, created_at)
                        VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING
                        """,
                        [.text(key), .text(fingerprint), .text(asset.id.databaseText), .double(now)]
                    )
                    // Taken: the asset inserted above is rolled back with the transaction.
                    guard claimed == 1 else { throw KeyTaken() }
                    return asset
                }
                return .created(asset)
            } catch is KeyTaken {
                guard
                    let row = try await database.queryFirst(
                        "SELECT fingerprint, asset_id FROM idempotency_keys WHERE idempotency_key = $1 AND created_at > $2",
                        [.text(key), .double(cutoff)]
                    )
                else { continue }
                guard try row.text("fingerprint") == fingerprint else { return .reused }
                let id = try row.text("asset_id")
                guard let uuid = UUID(uuidString: id) else { throw DatabaseError(.decoding, message: "asset id \(id) is not a UUID") }
                return .replayed(try await AssetRepository(database: database, clock: clock).get(uuid))
            }
        }
        throw DatabaseError(.queryFailed, message: "the idempotency key was neither free nor taken")
    }

    private struct KeyTaken: Error {}
}
