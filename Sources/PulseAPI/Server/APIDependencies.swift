import Foundation
import Logging
import PulseDatabase
import PulseJobs
import PulseStorage

/// What the route handlers share: the runtime's parts and the API's own helpers.
struct APIDependencies: Sendable {
    let configuration: APIConfiguration
    let database: any Database
    let assets: AssetRepository
    let queue: JobQueue
    let store: any ObjectStore
    let bus: any EventBus
    let links: Links
    let auth: Authenticator
    let metrics: APIMetrics
    /// Checks `/storage/` URLs; nil with S3 storage (the route is then not served).
    let localURLSigner: LocalURLSigner?
    /// Where uploads to `/storage/` are written before they are moved into the store.
    let incomingDirectory: String
    let logger: Logger
    let now: @Sendable () -> Date
    /// Every change of an asset's state the routes ask for (create, complete, delete), made once
    /// from the parts above.
    let lifecycle: AssetLifecycle
    /// The signing keys playback JWTs are verified with, cached in memory.
    let signingKeys: SigningKeyCache
    /// Checks the credential of a media path: a server playback token or a signed JWT.
    let playbackCredentials: PlaybackCredentialVerifier

    init(
        configuration: APIConfiguration, database: any Database, assets: AssetRepository, queue: JobQueue,
        store: any ObjectStore, bus: any EventBus, links: Links, auth: Authenticator, metrics: APIMetrics,
        localURLSigner: LocalURLSigner?, incomingDirectory: String, logger: Logger, now: @escaping @Sendable () -> Date
    ) {
        self.configuration = configuration
        self.database = database
        self.assets = assets
        self.queue = queue
        self.store = store
        self.bus = bus
        self.links = links
        self.auth = auth
        self.metrics = metrics
        self.localURLSigner = localURLSigner
        self.incomingDirectory = incomingDirectory
        self.logger = logger
        self.now = now
        self.lifecycle = AssetLifecycle(assets: assets, queue: queue, store: store, bus: bus, logger: logger)
        self.signingKeys = SigningKeyCache(repository: SigningKeyRepository(database: database), now: now)
        self.playbackCredentials = PlaybackCredentialVerifier(tokens: links.playbackTokens, jwts: PlaybackJWTVerifier(keys: signingKeys))
    }

    /// The `id` path parameter as an asset id; an id that is not a UUID cannot exist.
    static func assetID(_ text: String?) throws -> UUID {
        guard let text, let id = UUID(uuidString: text) else { throw APIError(.notFound, "no such asset") }
        return id
    }

    /// The stored asset, or `ERR_NOT_FOUND`.
    func existingAsset(_ id: UUID) async throws -> Asset {
        guard let asset = try await assets.get(id) else { throw APIError(.notFound, "no such asset") }
        return asset
    }
}
