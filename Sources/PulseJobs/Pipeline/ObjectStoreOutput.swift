public import Foundation
public import PulseMedia
public import PulseStorage
import NIOCore

/// Sends a transcode's files to object storage under a prefix (e.g. `processed/ID/`).
/// Segments are moved: the local copy goes as soon as it is stored, so local disk stays bounded.
///
/// Playlists go gzip-compressed, with `Content-Encoding: gzip`, to a store that keeps the encoding
/// (S3): players fetching them from the bucket or a CDN in front of it get them compressed, as
/// Apple's HLS rules ask (10.1), with no server in between to compress them. The local store keeps
/// them as text: only `/media/` serves it, and compresses for the clients that take gzip.
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
        let bytes = ByteBuffer(string: text)
        if contentType == ContentType.playlist, store.keepsContentEncoding {
            try await store.put(try Gzip.compress(bytes), key: prefix + relativePath, contentType: contentType, contentEncoding: Gzip.contentEncoding)
        } else {
            try await store.put(bytes, key: prefix + relativePath, contentType: contentType)
        }
    }

    public func append(_ relativePath: String, to file: FileHandle) async throws {
        for try await buffer in try await store.get(key: prefix + relativePath) {
            try file.write(contentsOf: Data(buffer.readableBytesView))
        }
    }
}
