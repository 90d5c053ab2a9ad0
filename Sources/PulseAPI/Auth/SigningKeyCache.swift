import Foundation
import JWTKit
import Synchronization

/// The signing keys a `serve` verifies playback JWTs with, read from `signing_keys` and kept in
/// memory for ``lifetime``, so a player's requests (a playlist, then a segment every few seconds)
/// do not each read the database.
///
/// A revoke takes effect at once on the process that served the `DELETE` (``forget(_:)``), and on
/// every other `serve` sharing the database within ``lifetime``, when its entry expires. Absent
/// keys are remembered too (an id is a random UUID: nobody presents one before it exists, so this
/// only spares the database a flood of made-up ids); ``capacity`` bounds the memory either way.
final class SigningKeyCache: Sendable {
    /// How long a key read from the database, or its absence, is believed.
    static let lifetime: Duration = .seconds(30)
    /// At most this many keys (or absences) are held; when full, expired entries go first, and if
    /// none has expired, all of them.
    static let capacity = 1024

    /// The verifier of one key: jwt-kit's collection holding that key alone, RS256, under its id.
    typealias Keys = JWTKeyCollection

    private struct Entry {
        var keys: Keys?
        var readAt: Date
    }

    private struct State {
        var entries: [UUID: Entry] = [:]
        /// Counts ``forget(_:)`` calls: a read that started before one does not store what it read
        /// (it may be the row just deleted).
        var generation = 0
    }

    private let repository: SigningKeyRepository
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    init(repository: SigningKeyRepository, now: @escaping @Sendable () -> Date) {
        self.repository = repository
        self.now = now
    }

    /// The verifier of key `id`, or nil when there is no such key (never created, or revoked).
    func keys(for id: UUID) async throws -> Keys? {
        let start = now()
        let (cached, generation) = state.withLock { state -> (Entry?, Int) in
            guard let entry = state.entries[id], Self.isFresh(entry, at: start) else { return (nil, state.generation) }
            return (entry, state.generation)
        }
        if let cached { return cached.keys }
        var keys: Keys?
        if let pem = try await repository.publicKey(id) { keys = try await Self.makeKeys(id: id, publicKeyPEM: pem) }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= Self.capacity {
                state.entries = state.entries.filter { Self.isFresh($0.value, at: start) }
                if state.entries.count >= Self.capacity { state.entries.removeAll() }
            }
            state.entries[id] = Entry(keys: keys, readAt: start)
        }
        return keys
    }

    /// Drops what is known of key `id`: the next request reads the database again.
    func forget(_ id: UUID) {
        state.withLock { state in
            state.entries[id] = nil
            state.generation += 1
        }
    }

    /// A collection that verifies RS256 signatures of key `id` only.
    static func makeKeys(id: UUID, publicKeyPEM: String) async throws -> Keys {
        let key = try Insecure.RSA.PublicKey(pem: publicKeyPEM)
        return await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: Links.id(id)))
    }

    private static func isFresh(_ entry: Entry, at time: Date) -> Bool {
        let age = time.timeIntervalSince(entry.readAt)
        return age >= 0 && age < Double(lifetime.components.seconds)
    }
}
