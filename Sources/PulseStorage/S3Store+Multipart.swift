import AsyncHTTPClient
import Foundation
import NIOCore

extension S3Store {
    /// Uploads a file in parts, `partConcurrency` at a time, each part streamed from its range of the
    /// file. Any failure aborts the upload so no orphaned parts are left to pay for.
    func putMultipart(filePath: String, size: Int64, fullKey: String, key: String, contentType: String?) async throws {
        let objectPath = addressing.path(forKey: fullKey)
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
        logger.debug("multipart upload started", metadata: ["storage.key": "\(key)", "storage.size": "\(size)"])

        do {
            let etags = try await uploadParts(filePath: filePath, size: size, objectPath: objectPath, uploadID: uploadID, key: key)
            var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for (index, etag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
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
        } catch {
            await abortMultipart(objectPath: objectPath, uploadID: uploadID, key: key)
            throw error
        }
    }

    /// The ETags of parts 1...n, in order.
    private func uploadParts(filePath: String, size: Int64, objectPath: String, uploadID: String, key: String) async throws
        -> [String]
    {
        let partSize = configuration.partSize
        let partCount = Int((size + partSize - 1) / partSize)
        guard partCount <= 10_000 else {
            throw StorageError(.invalidArgument, "more than 10000 parts: raise the part size", key: key)
        }
        return try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var etags = [String](repeating: "", count: partCount)
            var next = 0
            // A sliding window: start a part whenever one finishes, never more than the bound in flight.
            func startNext() {
                let number = next + 1
                let range = Int64(next) * partSize..<min(Int64(next + 1) * partSize, size)
                next += 1
                group.addTask {
                    let etag = try await uploadPart(filePath: filePath, range: range, number: number,
                                                    objectPath: objectPath, uploadID: uploadID, key: key)
                    return (number, etag)
                }
            }
            while next < min(configuration.partConcurrency, partCount) { startNext() }
            while let (number, etag) = try await group.next() {
                etags[number - 1] = etag
                if next < partCount { startNext() }
            }
            return etags
        }
    }

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
}
