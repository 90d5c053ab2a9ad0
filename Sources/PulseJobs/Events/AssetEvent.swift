public import Foundation
public import PulseSupport

/// Something subscribers of an asset should hear about now (the page's progress circle, thumbnail).
public struct AssetEvent: Codable, Sendable, Hashable {
    /// The kind of news.
    public enum EventType: String, Codable, Sendable {
        case status
        case thumbnailReady = "thumbnail_ready"
        /// The first rendition plays (its master playlist is stored); once, before `ready`.
        case playable
        case progress
        case ready
        case failed
    }

    public var assetID: UUID
    public var type: EventType
    /// 0 to 100, for `progress` (and `ready`: 100).
    public var percent: Double?
    /// Estimated seconds left, for `progress`.
    public var etaSeconds: Double?
    /// Encoding speed as a multiple of real time, for `progress`.
    public var speed: Double?
    public var thumbnailKey: String?
    /// For `thumbnail_ready`: the thumbnail's BlurHash.
    public var placeholder: String?
    /// For `failed`: why.
    public var errorCode: FailureCode?
    public var errorMessage: String?
    public var status: AssetStatus?
    /// When it happened, epoch seconds.
    public var at: Double

    /// An event; only the fields its type uses need values.
    public init(
        assetID: UUID,
        type: EventType,
        percent: Double? = nil,
        etaSeconds: Double? = nil,
        speed: Double? = nil,
        thumbnailKey: String? = nil,
        placeholder: String? = nil,
        errorCode: FailureCode? = nil,
        errorMessage: String? = nil,
        status: AssetStatus? = nil,
        at: Double
    ) {
        self.assetID = assetID
        self.type = type
        self.percent = percent
        self.etaSeconds = etaSeconds
        self.speed = speed
        self.thumbnailKey = thumbnailKey
        self.placeholder = placeholder
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.status = status
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case type, percent, speed, status, at, placeholder
        case assetID = "asset_id"
        case etaSeconds = "eta_seconds"
        case thumbnailKey = "thumbnail_key"
        case errorCode = "error_code"
        case errorMessage = "error_message"
    }

    /// The JSON the API sends and NOTIFY carries (snake_case keys, no nulls).
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Parses `jsonText()` output.
    public init(jsonText: String) throws {
        self = try JSONDecoder().decode(AssetEvent.self, from: Data(jsonText.utf8))
    }

    /// The terminal event of a failed asset: why (`code`), in a message for the person who
    /// uploaded it.
    public static func failed(_ assetID: UUID, code: FailureCode?, message: String?, at: Double) -> AssetEvent {
        AssetEvent(assetID: assetID, type: .failed, errorCode: code, errorMessage: message, status: .failed, at: at)
    }

    /// The terminal event that tells subscribers their asset was deleted: open event sockets end
    /// on it instead of waiting for an asset that is gone.
    public static func deleted(_ assetID: UUID, at: Double) -> AssetEvent {
        failed(assetID, code: .assetDeleted, message: "the asset was deleted", at: at)
    }
}
