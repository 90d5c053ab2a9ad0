public import PulseMedia
public import PulseStorage
import NIOCore

/// Sends a transcode's files to object storage under a prefix (e.g. `processed/ID/`).
/// Segments are moved: the local copy goes as soon as it is stored, so local disk stays bounded.
public struct ObjectStoreOutput: TranscodeOutput {
    public let store: any ObjectStore
    public let prefix: String

    public init(store: any ObjectStore, prefix: String) {
        self.store = store
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    public func storeFile(at localPath: String, as relativePath: String, contentType: String) async throws {
        try await store.put(fileAt: localPath, key: prefix + relativePath, contentType: contentType, mode: .move)
    }

    public func storeText(_ text: String, as relativePath: String, contentType: String) async throws {
        try await store.put(ByteBuffer(string: text), key: prefix + relativePath, contentType: contentType)
    }
}
