public import NIOCore
public import PulseStorage

/// A test store in front of a local store: every operation goes to `base` unless the conforming
/// type implements it itself (to hook, count or fail it).
public protocol ForwardingStore: ObjectStore {
    /// Where the objects really are.
    var base: LocalStore { get }
}

extension ForwardingStore {
    public func put(fileAt path: String, key: String, contentType: String?, mode: PutFileMode) async throws {
        try await base.put(fileAt: path, key: key, contentType: contentType, mode: mode)
    }

    public func put(_ bytes: ByteBuffer, key: String, contentType: String?, contentEncoding: String?) async throws {
        try await base.put(bytes, key: key, contentType: contentType, contentEncoding: contentEncoding)
    }

    public func get(key: String, range: ClosedRange<Int64>?) async throws -> ObjectStream { try await base.get(key: key, range: range) }
    public func head(key: String) async throws -> ObjectInfo? { try await base.head(key: key) }
    public func delete(key: String) async throws { try await base.delete(key: key) }
    public func list(prefix: String) async throws -> [ObjectInfo] { try await base.list(prefix: prefix) }
    public func deletePrefix(_ prefix: String) async throws -> Int { try await base.deletePrefix(prefix) }
    public func presignedGetURL(key: String, expiresIn: Duration) async throws -> String { try await base.presignedGetURL(key: key, expiresIn: expiresIn) }
    public func presignedPutURL(key: String, expiresIn: Duration) async throws -> String { try await base.presignedPutURL(key: key, expiresIn: expiresIn) }
    public func mediaInput(key: String, expiresIn: Duration) async throws -> String { try await base.mediaInput(key: key, expiresIn: expiresIn) }
}
