import AsyncHTTPClient
import Foundation
import NIOCore

extension S3Store {
    // MARK: ObjectStore: multipart uploads a client drives

    public func createMultipartUpload(key: String, contentType: String?) async throws -> String {
        try await createUpload(objectPath: addressing.path(forKey: try fullKey(key)), key: key, contentType: contentType)
    }

    public func uploadPart(fileAt path: String, key: String, uploadID: String, partNumber: Int) async throws -> String {
        let objectPath = addressing.path(forKey: try fullKey(key))
        try Self.checkPartNumber(partNumber, key: key)
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber else {
            throw StorageError(.notFound, "no such source file \(path)", key: key)
        }
        let etag = try await uploadPart(filePath: path, range: 0..<size.int64Value, number: partNumber,
                                        objectPath: objectPath, uploadID: uploadID, key: key)
        return Self.unquote(etag)
    }

    /// A presigned `UploadPart`: only `host` is signed, so a browser can PUT the bytes as they are.
    public func presignedUploadPartURL(key: String, uploadID: String, partNumber: Int, expiresIn: Duration) async throws -> String {
        try Self.checkPartNumber(partNumber, key: key)
        return try presign(method: "PUT", key: key, query: ["partNumber": String(partNumber), "uploadId": uploadID], expiresIn: expiresIn)
    }

    /// ListParts, page after page (`listPageSize` parts each, at most S3's 1000).
    public func listParts(key: String, uploadID: String) async throws -> [UploadedPart] {
        let objectPath = addressing.path(forKey: try fullKey(key))
        var parts: [UploadedPart] = []
        var marker: String?
        repeat {
            var query = ["uploadId": uploadID, "max-parts": String(min(configuration.listPageSize, 1000))]
            if let marker { query["part-number-marker"] = marker }
            let response = try await send(
                S3Request(method: .GET, path: objectPath, query: query, timeout: configuration.requestTimeout), key: key)
            let xml = String(buffer: try await response.body.collect(upTo: 16 << 20))[...]
            // AWS answers ListPartsResult; moto ListPartsResponse.
            guard xml.contains("<ListPartsResult") || xml.contains("<ListPartsResponse") else {
                throw StorageError(.badResponse, "not a ListParts result", key: key)
            }
            for entry in S3XML.blocks("Part", in: xml) {
                guard let number = S3XML.value("PartNumber", in: entry).flatMap({ Int($0) }),
                      let etag = S3XML.value("ETag", in: entry)
                else { throw StorageError(.badResponse, "a part without number or ETag in ListParts", key: key) }
                parts.append(UploadedPart(partNumber: number, etag: Self.unquote(etag),
                                          size: S3XML.value("Size", in: entry).flatMap { Int64($0) } ?? 0))
            }
            let truncated = S3XML.value("IsTruncated", in: xml) == "true"
            marker = truncated ? S3XML.value("NextPartNumberMarker", in: xml) : nil
            if truncated && (marker == nil || marker == query["part-number-marker"]) {
                throw StorageError(.badResponse, "truncated ListParts without a new marker", key: key)
            }
        } while marker != nil
        return parts.sorted { $0.partNumber < $1.partNumber }
    }

    public func completeMultipartUpload(key: String, uploadID: String, parts: [CompletedPart]) async throws {
        let objectPath = addressing.path(forKey: try fullKey(key))
        try await completeUpload(objectPath: objectPath, uploadID: uploadID,
                                 parts: parts.map { ($0.partNumber, $0.bareETag) }, key: key)
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        let objectPath = addressing.path(forKey: try fullKey(key))
        // NoSuchUpload (already completed or aborted) is the outcome we want.
        let response = try await send(
            S3Request(method: .DELETE, path: objectPath, query: ["uploadId": uploadID], timeout: configuration.requestTimeout),
            key: key, notFoundIsAnswer: true
        )
        try await Self.drain(response)
        logger.info("multipart upload aborted", metadata: ["storage.key": "\(key)", "s3.status": "\(response.status.code)"])
    }

    // MARK: our own uploads of big files

    /// Uploads a file in parts, `partConcurrency` at a time, each part streamed from its range of the
    /// file. Any failure aborts the upload so no orphaned parts are left to pay for.
    func putMultipart(filePath: String, size: Int64, fullKey: String, key: String, contentType: String?) async throws {
        let objectPath = addressing.path(forKey: fullKey)
        let uploadID = try await createUpload(objectPath: objectPath, key: key, contentType: contentType)
        logger.debug("multipart upload started", metadata: ["storage.key": "\(key)", "storage.size": "\(size)"])
        do {
            let etags = try await uploadParts(filePath: filePath, size: size, objectPath: objectPath, uploadID: uploadID, key: key)
            try await completeUpload(objectPath: objectPath, uploadID: uploadID,
                                     parts: etags.enumerated().map { ($0.offset + 1, $0.element) }, key: key)
        } catch {
            await abortMultipart(objectPath: objectPath, uploadID: uploadID, key: key)
            throw error
        }
    }

    // MARK: the S3 calls

    /// CreateMultipartUpload: the upload id.
    private func createUpload(objectPath: String, key: String, contentType: String?) async throws -> String {
        var headers: [String: String] = [:]
        if let contentType { headers["content-type"] = contentType }
        let created = try await send(
            S3Request(method: .POST, path: objectPath, query: ["uploads": ""], headers: headers,
                      timeout: configuration.requestTimeout),
            key: key
        )
        let createdXML = String(buffer: try await created.body.collect(upTo: 1 << 20))[...]
        guard let uploadID = S3XML.value("UploadId", in: createdXML), !uploadID.isEmpty else {
            throw StorageError(.badResponse, "no UploadId in CreateMultipartUpload's answer", key: key)
        }
        return uploadID
    }

    /// CompleteMultipartUpload with `parts` (number, ETag) in order.
    private func completeUpload(objectPath: String, uploadID: String, parts: [(Int, String)], key: String) async throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (number, etag) in parts {
            xml += "<Part><PartNumber>\(number)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = ByteBuffer(string: xml)
        let completed = try await send(
            S3Request(method: .POST, path: objectPath, query: ["uploadId": uploadID],
                      headers: ["content-type": "application/xml"],
                      payload: .sha256(hex: Self.sha256Hex(body)), body: { .bytes(body) },
                      timeout: configuration.transferTimeout),
            key: key
        )
        // S3 may answer 200 and still fail: the error is then in the body.
        let result = String(buffer: try await completed.body.collect(upTo: 1 << 20))[...]
        if result.contains("<Error>") {
            let code = S3XML.value("Code", in: result)
            throw StorageError(.fromS3(code: code, status: 500), S3XML.value("Message", in: result) ?? "completion failed",
                               key: key, serverCode: code)
        }
    }

    /// The ETags of parts 1...n, in order.
    private func uploadParts(filePath: String, size: Int64, objectPath: String, uploadID: String, key: String) async throws
        -> [String]
    {
        let plan: PartPlan
        do {
            plan = try PartPlan(size: size, preferredPartSize: configuration.partSize)
        } catch {
            throw StorageError(error.code, error.message, key: key)
        }
        let partCount = plan.partCount
        return try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var etags = [String](repeating: "", count: partCount)
            var next = 1
            // A sliding window: start a part whenever one finishes, never more than the bound in flight.
            func startNext() {
                let number = next
                let range = plan.range(ofPart: number)
                next += 1
                group.addTask {
                    let etag = try await uploadPart(filePath: filePath, range: range, number: number,
                                                    objectPath: objectPath, uploadID: uploadID, key: key)
                    return (number, etag)
                }
            }
            while next <= min(configuration.partConcurrency, partCount) { startNext() }
            while let (number, etag) = try await group.next() {
                etags[number - 1] = etag
                if next <= partCount { startNext() }
            }
            return etags
        }
    }

    /// UploadPart of `range` of a file; the ETag as S3 sent it (quoted).
    private func uploadPart(filePath: String, range: Range<Int64>, number: Int, objectPath: String, uploadID: String,
                            key: String) async throws -> String {
        let length = range.count
        let response = try await send(
            S3Request(
                method: .PUT, path: objectPath, query: ["partNumber": String(number), "uploadId": uploadID],
                payload: .unsigned,
                body: { .stream(LocalFileChunks(path: filePath, range: range, chunkSize: LocalStore.chunkSize), length: .known(Int64(length))) },
                timeout: configuration.transferTimeout
            ),
            key: key
        )
        try await Self.drain(response)
        guard let etag = response.headers.first(name: "etag") else {
            throw StorageError(.badResponse, "no ETag for part \(number)", key: key)
        }
        return etag
    }

    /// Best effort, and run even when the upload failed because the task was cancelled: a detached
    /// task does not inherit the cancellation, and we wait for it, so nothing is left running.
    private func abortMultipart(objectPath: String, uploadID: String, key: String) async {
        let store = self
        let outcome = await Task.detached {
            do {
                let response = try await store.send(
                    S3Request(method: .DELETE, path: objectPath, query: ["uploadId": uploadID],
                              timeout: store.configuration.requestTimeout),
                    key: key, notFoundIsAnswer: true
                )
                try await S3Store.drain(response)
                return true
            } catch {
                return false
            }
        }.value
        logger.info("multipart upload aborted", metadata: ["storage.key": "\(key)", "s3.abort.ok": "\(outcome)"])
    }

    static func checkPartNumber(_ number: Int, key: String) throws(StorageError) {
        guard (1...MultipartLimits.maxParts).contains(number) else {
            throw StorageError(.invalidArgument, "part numbers are 1 to \(MultipartLimits.maxParts)", key: key)
        }
    }
}
