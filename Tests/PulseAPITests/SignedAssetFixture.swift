import Foundation
import NIOCore
import PulseJobs
import Testing

extension TestServer {
    /// A `signed` asset made ready with no encode: created through the API, marked ready, and
    /// `files` (names under `processed/{id}/` and their contents) put straight into the store.
    /// For tests of the media route's checks, which need the files and not real media.
    func readySignedAsset(files: [String: String]) async throws -> UUID {
        let created = try await send(.POST, "\(baseURL)/v1/assets", bearer: apiKey, body: json(["filename": "a.mp4", "playback_policy": "signed"]))
        let text = try #require(created.json["id"] as? String)
        let id = try #require(UUID(uuidString: text))
        try await AssetRepository(database: runtime.database).markReady(id)
        for (name, contents) in files {
            try await runtime.store.put(ByteBuffer(string: contents), key: StorageKeys.processedPrefix(id) + name)
        }
        return id
    }
}
