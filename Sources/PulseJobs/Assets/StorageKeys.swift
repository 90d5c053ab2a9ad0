public import Foundation
import PulseMedia

/// Where an asset's objects live in the store, for everyone (pipeline, API, reaper):
/// `uploads/{id}/{filename}` for the raw upload, `processed/{id}/...` for what comes out.
public enum StorageKeys {
    /// `uploads/{id}/`: the raw upload (deleted after success).
    public static func uploadsPrefix(_ id: UUID) -> String { "uploads/\(text(id))/" }
    /// `uploads/{id}/{filename}`; `filename` must already be a safe key segment.
    public static func upload(_ id: UUID, filename: String) -> String { uploadsPrefix(id) + filename }
    /// `processed/{id}/`: thumbnail, playlists, segments.
    public static func processedPrefix(_ id: UUID) -> String { "processed/\(text(id))/" }
    public static func thumbnail(_ id: UUID) -> String { processedPrefix(id) + "thumbnail.jpg" }
    public static func master(_ id: UUID) -> String { processedPrefix(id) + "master.m3u8" }
    /// The storyboard's WebVTT; its sprite sheets (`storyboard_000.jpg`, ...) lie beside it.
    public static func storyboard(_ id: UUID) -> String { processedPrefix(id) + storyboardFile }
    /// The storyboard's file name under `processed/{id}/`.
    public static let storyboardFile = StoryboardLayout.fileName
    /// The top rung and the audio in one MP4, when asked for at create (`mp4: true`).
    public static func download(_ id: UUID) -> String { processedPrefix(id) + "download.mp4" }

    /// Ids in keys and URLs are lowercase.
    public static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
}

extension JSONEncoder {
    /// Stable output (sorted keys) for what is stored as JSON text.
    static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func text(_ value: some Encodable) throws -> String { String(decoding: try encode(value), as: UTF8.self) }
}

extension JSONDecoder {
    func decode<T: Decodable>(_ type: T.Type, text: String) throws -> T { try decode(type, from: Data(text.utf8)) }
}
