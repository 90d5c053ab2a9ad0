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

    /// Parses `jsonText()` output (and any JSON `Codable` would accept: what the flat reading
    /// does not take goes to `JSONDecoder`, which gives the same event or the error).
    public init(jsonText: String) throws {
        if let flat = FlatJSONObject(jsonText), let event = AssetEvent(flat) {
            self = event
        } else {
            self = try JSONDecoder().decode(AssetEvent.self, from: Data(jsonText.utf8))
        }
    }

    /// The event from a flat object; nil where `Codable` could answer differently (a member
    /// missing or of another type, a value no case has).
    init?(_ object: FlatJSONObject) {
        func string(_ key: CodingKeys) -> String?? {
            switch object[key.stringValue] {
            case nil, .null?: return .some(nil)
            case .string(let text)?: return .some(text)
            default: return nil
            }
        }
        func number(_ key: CodingKeys) -> Double?? {
            switch object[key.stringValue] {
            case nil, .null?: return .some(nil)
            case .number(let value)?: return .some(value)
            default: return nil
            }
        }
        guard case .string(let id)? = object[CodingKeys.assetID.stringValue], let assetID = UUID(uuidString: id),
              case .string(let typeName)? = object[CodingKeys.type.stringValue], let type = EventType(rawValue: typeName),
              case .number(let at)? = object[CodingKeys.at.stringValue],
              let percent = number(.percent), let etaSeconds = number(.etaSeconds), let speed = number(.speed),
              let thumbnailKey = string(.thumbnailKey), let placeholder = string(.placeholder),
              let errorCode = string(.errorCode), let errorMessage = string(.errorMessage), let statusName = string(.status)
        else { return nil }
        var status: AssetStatus?
        if let statusName {
            guard let known = AssetStatus(rawValue: statusName) else { return nil }
            status = known
        }
        self.init(
            assetID: assetID, type: type, percent: percent, etaSeconds: etaSeconds, speed: speed, thumbnailKey: thumbnailKey,
            placeholder: placeholder, errorCode: errorCode.map(FailureCode.init), errorMessage: errorMessage, status: status, at: at)
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
