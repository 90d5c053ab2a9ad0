public import Foundation
public import PulseSupport

/// Where an asset is in its life.
public enum AssetStatus: String, Codable, Sendable, CaseIterable {
    case awaitingUpload = "awaiting_upload"
    case queued
    case processing
    case ready
    case failed

    /// Ready and failed are final: nothing more happens to the asset.
    public var isTerminal: Bool { self == .ready || self == .failed }
}

/// Who may play an asset: anyone with its URLs (`public`), or only with a playback token (`signed`).
public enum PlaybackPolicy: String, Codable, Sendable, CaseIterable {
    case `public`
    case signed
}

/// An uploaded video and everything known about its processing, as stored in `assets`.
///
/// JSON columns (`probe`, `plan`) are carried as opaque text: their shapes belong to PulseMedia.
/// Times are epoch seconds.
public struct Asset: Codable, Sendable, Hashable, Identifiable {
    public var id: UUID
    public var status: AssetStatus
    /// 0 to 100; never lowered by `updateProgress`.
    public var progress: Double
    /// Why it failed (`FailureCode`, PulseSupport: the one list of codes); nil unless failed.
    public var errorCode: FailureCode?
    public var errorMessage: String?
    public var filename: String?
    /// The object key of the raw upload.
    public var sourceKey: String?
    public var sourceSize: Int64?
    /// What the source object was when `complete` accepted it (`SourceIdentity`): the worker
    /// refuses a source that is no longer that object (`ERR_SOURCE_CHANGED`).
    public var sourceIdentity: String?
    public var probeJSON: String?
    public var planJSON: String?
    public var thumbnailKey: String?
    /// The thumbnail's BlurHash (`BlurHash`, PulseMedia), recorded with `thumbnailKey`.
    public var placeholder: String?
    /// The storyboard's WebVTT object key, once it and its sprite sheets are stored.
    public var storyboardKey: String?
    /// Rung name -> true once that rung's playlist is complete (`hls_parts_json`).
    public var hlsParts: [String: Bool]
    public var chunkCount: Int?
    /// Seconds of media.
    public var duration: Double?
    /// How many times processing started.
    public var attempts: Int
    public var createdAt: Double
    public var updatedAt: Double
    public var readyAt: Double?
    /// When the first rendition became playable (set once, before `ready`).
    public var playableAt: Double?
    /// When a delete began (epoch seconds); such a row is on its way out: `AssetRepository.get`
    /// and `list` no longer show it and it takes no more writes.
    public var deletingAt: Double?
    /// The client's own reference (e.g. its chat message id), at most 255 bytes; shown as given.
    public var passthrough: String?
    public var playbackPolicy: PlaybackPolicy
    /// Whether a `download.mp4` was asked for; `downloadKey` is its object key once stored.
    public var mp4: Bool
    public var downloadKey: String?

    enum CodingKeys: String, CodingKey {
        case id, status, progress, filename, duration, attempts
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case sourceKey = "source_key"
        case sourceSize = "source_size"
        case sourceIdentity = "source_identity"
        case probeJSON = "probe_json"
        case planJSON = "plan_json"
        case thumbnailKey = "thumbnail_key"
        case placeholder
        case storyboardKey = "storyboard_key"
        case hlsParts = "hls_parts"
        case chunkCount = "chunk_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case readyAt = "ready_at"
        case playableAt = "playable_at"
        case deletingAt = "deleting_at"
        case passthrough, mp4
        case playbackPolicy = "playback_policy"
        case downloadKey = "download_key"
    }
}

/// The fields a new asset starts with.
public struct NewAsset: Sendable, Hashable {
    public var id: UUID
    public var status: AssetStatus
    public var filename: String?
    public var sourceKey: String?
    public var sourceSize: Int64?
    public var passthrough: String?
    public var playbackPolicy: PlaybackPolicy
    public var mp4: Bool

    /// A new asset; by default it waits for its upload.
    public init(
        id: UUID = UUID(),
        status: AssetStatus = .awaitingUpload,
        filename: String? = nil,
        sourceKey: String? = nil,
        sourceSize: Int64? = nil,
        passthrough: String? = nil,
        playbackPolicy: PlaybackPolicy = .public,
        mp4: Bool = false
    ) {
        self.id = id
        self.status = status
        self.filename = filename
        self.sourceKey = sourceKey
        self.sourceSize = sourceSize
        self.passthrough = passthrough
        self.playbackPolicy = playbackPolicy
        self.mp4 = mp4
    }
}

/// A position in the newest-first asset listing: the last asset of the previous page.
public struct AssetCursor: Sendable, Hashable, Codable {
    public var createdAt: Double
    public var id: UUID

    /// A cursor just after `asset`.
    public init(after asset: Asset) {
        self.createdAt = asset.createdAt
        self.id = asset.id
    }

    /// An opaque string for an API's `cursor` parameter.
    public var token: String {
        "\(self.createdAt.bitPattern)_\(self.id.uuidString.lowercased())"
    }

    /// Parses `token`; nil when it was not made by `token`.
    public init?(token: String) {
        let parts = token.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let bits = UInt64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            return nil
        }
        self.createdAt = Double(bitPattern: bits)
        self.id = id
    }
}

/// One page of assets, newest first.
public struct AssetPage: Sendable, Hashable {
    public var assets: [Asset]
    /// Where the next page starts; nil on the last page.
    public var next: AssetCursor?
}

extension UUID {
    /// The stored form of an id: lowercase, as PostgreSQL prints UUIDs.
    var databaseText: String { self.uuidString.lowercased() }
}
