import Crypto
import Foundation
import NIOCore
import SigV4

extension S3Store {
    public func list(prefix: String) async throws -> [ObjectInfo] {
        try ObjectKey.validatePrefix(prefix)
        return try await listFull(prefix: self.prefix + prefix).map { object in
            var object = object
            object.key = String(object.key.dropFirst(self.prefix.count))
            return object
        }
    }

    /// ListObjectsV2, page after page; keys are full (root prefix included).
    func listFull(prefix fullPrefix: String) async throws -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        var token: String?
        repeat {
            var query = ["list-type": "2", "max-keys": String(configuration.listPageSize), "prefix": fullPrefix]
            if let token { query["continuation-token"] = token }
            let response = try await send(
                S3Request(method: .GET, path: addressing.bucketRoot, query: query, timeout: configuration.requestTimeout),
                key: fullPrefix
            )
            let body = try await response.body.collect(upTo: 64 << 20)
            let xml = String(buffer: body)[...]
            guard xml.contains("ListBucketResult") else {
                throw StorageError(.badResponse, "not a ListObjectsV2 result", key: fullPrefix)
            }
            for entry in S3XML.blocks("Contents", in: xml) {
                guard let key = S3XML.value("Key", in: entry) else { continue }
                objects.append(ObjectInfo(
                    key: key,
                    size: S3XML.value("Size", in: entry).flatMap { Int64($0) } ?? 0,
                    etag: S3XML.value("ETag", in: entry).map(Self.unquote),
                    lastModified: S3XML.value("LastModified", in: entry).flatMap(Self.parseISODate)
                ))
            }
            let truncated = S3XML.value("IsTruncated", in: xml) == "true"
            token = truncated ? S3XML.value("NextContinuationToken", in: xml) : nil
            if truncated && token == nil {
                throw StorageError(.badResponse, "truncated listing without a continuation token", key: fullPrefix)
            }
        } while token != nil
        return objects
    }

    public func deletePrefix(_ prefix: String) async throws -> Int {
        guard !prefix.isEmpty else { throw StorageError(.invalidKey, "refusing to delete the whole store") }
        try ObjectKey.validatePrefix(prefix)
        let keys = try await listFull(prefix: self.prefix + prefix).map(\.key)
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + configuration.deleteBatchSize, keys.count)]
            try await deleteBatch(Array(batch))
            start += batch.count
        }
        logger.info("deleted prefix", metadata: ["storage.prefix": "\(prefix)", "storage.count": "\(keys.count)"])
        return keys.count
    }

    /// DeleteObjects (at most 1000 keys). S3 requires Content-MD5 on it.
    private func deleteBatch(_ fullKeys: [String]) async throws {
        var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
        for key in fullKeys { xml += "<Object><Key>\(S3XML.escape(key))</Key></Object>" }
        xml += "</Delete>"
        let body = ByteBuffer(string: xml)
        let md5 = Data(Insecure.MD5.hash(data: Array(xml.utf8))).base64EncodedString()
        let response = try await send(
            S3Request(
                method: .POST, path: addressing.bucketRoot, query: ["delete": ""],
                headers: ["content-md5": md5, "content-type": "application/xml"],
                payload: .sha256(hex: Self.sha256Hex(body)), body: { .bytes(body) },
                timeout: configuration.requestTimeout
            ),
            key: nil
        )
        let result = String(buffer: try await response.body.collect(upTo: 16 << 20))[...]
        // Quiet mode lists only failures; a missing key is not one (S3 reports it as deleted).
        if let failure = S3XML.blocks("Error", in: result).first {
            let code = S3XML.value("Code", in: failure)
            throw StorageError(
                .fromS3(code: code, status: 200), S3XML.value("Message", in: failure) ?? "batch delete failed",
                key: S3XML.value("Key", in: failure).map { String($0.dropFirst(self.prefix.count)) }, serverCode: code
            )
        }
    }
}
