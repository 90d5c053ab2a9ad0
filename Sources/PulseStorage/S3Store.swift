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
    /// shuts it down (the default, ``AsyncHTTPClient/HTTPClient/storage``, needs no shutdown); it
    /// must not decompress answers (the store answers bytes as stored). `now` is the signing clock.
    public init(
        bucket: String,
        prefix: String = "",
        configuration: S3Configuration,
        httpClient: HTTPClient = .storage,
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

    public func put(_ bytes: ByteBuffer, key: String, contentType: String?, contentEncoding: String?) async throws {
        let full = try fullKey(key)
        var headers: [String: String] = [:]
        if let contentType { headers["content-type"] = contentType }
        // Kept with the object: S3 answers every GET with it, as a player needs it.
        if let contentEncoding { headers["content-encoding"] = contentEncoding }
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
        // A range's answer states the whole object's size after the slash of its Content-Range.
        let total = response.headers.first(name: "content-range").flatMap { $0.split(separator: "/").last.flatMap { Int64($0) } }
        return ObjectStream(response.body, info: Self.info(key: key, headers: response.headers, size: total))
    }

    /// Whether the store keeps an object's `Content-Encoding`: S3 does, and answers with it.
    public var keepsContentEncoding: Bool { true }

    public func head(key: String) async throws -> ObjectInfo? {
        let full = try fullKey(key)
        let response = try await send(
            S3Request(method: .HEAD, path: addressing.path(forKey: full), timeout: configuration.requestTimeout),
            key: key, notFoundIsAnswer: true
        )
        try await Self.drain(response)
        if response.status == .notFound { return nil }
        return Self.info(key: key, headers: response.headers)
    }

    /// What a HEAD or GET answer says of the object; `size` overrides its Content-Length (which
    /// counts only a range's bytes).
    static func info(key: String, headers: HTTPHeaders, size: Int64? = nil) -> ObjectInfo {
        ObjectInfo(
            key: key,
            size: size ?? headers.first(name: "content-length").flatMap { Int64($0) } ?? 0,
            etag: headers.first(name: "etag").map(Self.unquote),
            lastModified: headers.first(name: "last-modified").flatMap(Self.parseHTTPDate),
            contentType: headers.first(name: "content-type"),
            contentEncoding: headers.first(name: "content-encoding")
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

    /// A listing's `LastModified` (`2009-10-12T17:50:30.000Z`, or without the fraction). The
    /// styles are value types with no ICU formatter behind them: a listing parses one per object.
    static func parseISODate(_ text: String) -> Date? {
        (try? isoWithFraction.parse(text)) ?? (try? isoWholeSeconds.parse(text))
    }

    private static let isoWithFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let isoWholeSeconds = Date.ISO8601FormatStyle()
}
