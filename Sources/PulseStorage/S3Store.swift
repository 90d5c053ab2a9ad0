public import AsyncHTTPClient
public import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
import SigV4

/// An ``ObjectStore`` on S3 or an S3-compatible server, over AsyncHTTPClient, signed with ``SigV4``.
///
/// Rooted at `s3://bucket/prefix`: keys are relative to the prefix. Bodies are streamed both ways;
/// files above ``S3Configuration/multipartThreshold`` are uploaded in parallel parts (aborted on
/// failure); failed requests are retried per ``S3Configuration/retry``.
public struct S3Store: ObjectStore {
    /// The bucket.
    public let bucket: String
    /// The root prefix every key is under: empty, or ending with `/`.
    public let prefix: String
    let configuration: S3Configuration
    let addressing: S3Addressing
    let signer: SigV4Signer
    let transport: any S3Transport
    let logger: Logger
    let now: @Sendable () -> Date

    /// A store on `bucket` under `prefix`. The HTTP client is borrowed, not owned: the caller
    /// shuts it down (the default shared client needs no shutdown). `now` is the signing clock.
    public init(
        bucket: String,
        prefix: String = "",
        configuration: S3Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "pulse.storage.s3"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try self.init(bucket: bucket, prefix: prefix, configuration: configuration,
                      transport: HTTPClientTransport(client: httpClient), logger: logger, now: now)
    }

    init(
        bucket: String, prefix: String = "", configuration: S3Configuration, transport: any S3Transport,
        logger: Logger, now: @escaping @Sendable () -> Date
    ) throws {
        var root = prefix
        while root.hasPrefix("/") { root.removeFirst() }
        if !root.isEmpty && !root.hasSuffix("/") { root += "/" }
        if !root.isEmpty { try ObjectKey.validatePrefix(root) }
        self.bucket = bucket
        self.prefix = root
        self.configuration = configuration
        self.addressing = try S3Addressing(bucket: bucket, configuration: configuration)
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.transport = transport
        var logger = logger
        logger[metadataKey: "storage.bucket"] = "\(bucket)"
        self.logger = logger
        self.now = now
    }

    /// The key as stored in the bucket.
    func fullKey(_ key: String) throws(StorageError) -> String {
        try ObjectKey.validate(key)
        let full = prefix + key
        guard full.utf8.count <= ObjectKey.maxLength else {
            throw StorageError(.invalidKey, "key with its prefix is longer than \(ObjectKey.maxLength) bytes", key: key)
        }
        return full
    }

    // MARK: ObjectStore

    public func put(fileAt path: String, key: String, contentType: String?, mode: PutFileMode) async throws {
        let full = try fullKey(key)
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber else {
            throw StorageError(.notFound, "no such source file \(path)", key: key)
        }
        let length = size.int64Value
        if length >= configuration.multipartThreshold && length > configuration.partSize {
            try await putMultipart(filePath: path, size: length, fullKey: full, key: key, contentType: contentType)
        } else {
            var headers: [String: String] = [:]
            if let contentType { headers["content-type"] = contentType }
            let response = try await send(
                S3Request(
                    method: .PUT, path: addressing.path(forKey: full), headers: headers, payload: .unsigned,
                    body: { .stream(LocalFileChunks(path: path, range: 0..<length, chunkSize: LocalStore.chunkSize), length: .known(length)) },
                    timeout: configuration.transferTimeout
                ),
                key: key
            )
            try await Self.drain(response)
        }
        if mode == .move { try? FileManager.default.removeItem(atPath: path) }
        logger.debug("stored file", metadata: ["storage.key": "\(key)", "storage.size": "\(length)"])
    }

    public func put(_ bytes: ByteBuffer, key: String, contentType: String?) async throws {
        let full = try fullKey(key)
        var headers: [String: String] = [:]
        if let contentType { headers["content-type"] = contentType }
        let response = try await send(
            S3Request(
                method: .PUT, path: addressing.path(forKey: full), headers: headers,
                payload: .sha256(hex: Self.sha256Hex(bytes)), body: { .bytes(bytes) },
                timeout: configuration.transferTimeout
            ),
            key: key
        )
        try await Self.drain(response)
    }

    public func get(key: String, range: ClosedRange<Int64>?) async throws -> ObjectStream {
        let full = try fullKey(key)
        var headers: [String: String] = [:]
        if let range { headers["range"] = "bytes=\(range.lowerBound)-\(range.upperBound)" }
        let response = try await send(
            S3Request(method: .GET, path: addressing.path(forKey: full), headers: headers, timeout: configuration.transferTimeout),
            key: key
        )
        return ObjectStream(response.body)
    }

    public func head(key: String) async throws -> ObjectInfo? {
        let full = try fullKey(key)
        let response = try await send(
            S3Request(method: .HEAD, path: addressing.path(forKey: full), timeout: configuration.requestTimeout),
            key: key, notFoundIsAnswer: true
        )
        try await Self.drain(response)
        if response.status == .notFound { return nil }
        return ObjectInfo(
            key: key,
            size: response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0,
            etag: response.headers.first(name: "etag").map(Self.unquote),
            lastModified: response.headers.first(name: "last-modified").flatMap(Self.parseHTTPDate),
            contentType: response.headers.first(name: "content-type")
        )
    }

    public func delete(key: String) async throws {
        let full = try fullKey(key)
        let response = try await send(
            S3Request(method: .DELETE, path: addressing.path(forKey: full), timeout: configuration.requestTimeout),
            key: key, notFoundIsAnswer: true
        )
        try await Self.drain(response)
    }

    public func presignedGetURL(key: String, expiresIn: Duration) async throws -> String {
        try presign(method: "GET", key: key, expiresIn: expiresIn)
    }

    public func presignedPutURL(key: String, expiresIn: Duration) async throws -> String {
        try presign(method: "PUT", key: key, expiresIn: expiresIn)
    }

    /// A presigned GET URL: ffmpeg streams it with range requests.
    public func mediaInput(key: String, expiresIn: Duration) async throws -> String {
        try presign(method: "GET", key: key, expiresIn: expiresIn)
    }

    /// A presigned URL for `method` on `key`, with `query` (e.g. a part's `partNumber` and `uploadId`) signed too.
    func presign(method: String, key: String, query: [String: String] = [:], expiresIn: Duration) throws -> String {
        let full = try fullKey(key)
        let seconds = expiresIn.components.seconds
        guard (1...604_800).contains(seconds) else {
            throw StorageError(.invalidArgument, "S3 presigned URLs last 1 second to 7 days", key: key)
        }
        return signer.presignURL(
            method: method, scheme: addressing.scheme, host: addressing.host,
            path: addressing.path(forKey: full), query: query, expires: Int(seconds), date: now()
        )
    }

    // MARK: helpers

    static func drain(_ response: HTTPClientResponse) async throws {
        // Reading the (empty or small) body lets the connection go back to the pool.
        for try await _ in response.body {}
    }

    static func sha256Hex(_ buffer: ByteBuffer) -> String {
        var hasher = SHA256Hasher()
        hasher.update(buffer)
        return hasher.finalizeHex()
    }

    static func unquote(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    static func parseISODate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
