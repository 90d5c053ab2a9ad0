import Foundation
import Hummingbird
import PulseJobs
import PulseStorage

/// `PUT /storage/{key}?part=N&upload=ID&expires=&signature=`: one part of a multipart upload on
/// local storage (with S3 the client PUTs to S3's presigned `UploadPart` instead). Answered `200`
/// with the part's `ETag` (the MD5 of its bytes in hex, in quotes, as S3 answers).
///
/// The door: the signature covers method, key, expiry, part number and upload id; the asset must
/// exist, still await its upload, and have this upload; the part number is within 1...part_count;
/// the body is exactly the part's length (`part_size`, the last part the remainder), announced
/// in `Content-Length` and checked as it arrives. Each part of an asset is received once at a
/// time (parts of one asset side by side), within the same byte allowance as whole uploads.
extension StorageRoutes {
    func uploadPart(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let uploadID = String(query.get("upload") ?? "")
        let partText = String(query.get("part") ?? "")
        let key = try authorisedKey(request, context, method: "PUT", query: ["part": partText, "upload": uploadID])
        // Signed by us, so a number; checked against the plan below all the same.
        guard let partNumber = Int(partText) else { throw APIError(.invalidSignature, "the URL is not valid") }
        let (id, upload) = try await openPart(key: key, uploadID: uploadID)
        guard upload.plan.partNumbers.contains(partNumber) else {
            throw APIError(.partInvalid, "this upload has parts 1 to \(upload.plan.partCount)")
        }
        let expected = upload.plan.length(ofPart: partNumber)
        guard let declared = request.headers[.contentLength].flatMap(Int64.init) else {
            throw APIError(.invalidRequest, "send Content-Length: part \(partNumber) is \(expected) bytes")
        }
        guard declared == expected else {
            throw APIError(.partInvalid, "part \(partNumber) is \(expected) bytes, not \(declared)")
        }
        switch gate.admit(id, part: partNumber, bytes: expected, cap: UploadGate.cap(limit: dependencies.configuration.maxUploadBytes)) {
        case .admitted: break
        case .busy:
            throw APIError(.conflict, "this part is already being received; wait for it to finish")
        case .full:
            throw APIError(.unavailable, "the service is receiving too many uploads at once; try again shortly", headers: [.retryAfter: "5"])
        }
        defer { gate.release(id, part: partNumber, bytes: expected) }

        try FileManager.default.createDirectory(atPath: dependencies.incomingDirectory, withIntermediateDirectories: true)
        let partial = "\(dependencies.incomingDirectory)/\(UUID().uuidString.lowercased()).part"
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let received = try await Self.write(request.body, to: partial, limit: expected, pace: pace) { [gate] in
            gate.release(id, part: partNumber, bytes: expected)
        }
        guard received == expected else {
            throw APIError(.invalidRequest, "the part ended before the \(expected) bytes it announced")
        }
        // Completed or deleted while the body arrived: the part is not taken.
        _ = try await openPart(key: key, uploadID: uploadID)
        let etag = try await dependencies.store.uploadPart(fileAt: partial, key: key, uploadID: uploadID, partNumber: partNumber)
        context.logger.debug("part stored", metadata: ["storage.key": "\(key)", "upload.part": "\(partNumber)", "upload.bytes": "\(received)"])
        var response = Response(status: .ok)
        response.headers[.eTag] = "\"\(etag)\""
        return response
    }

    /// The asset whose multipart upload `uploadID` is, while it may take parts; otherwise `404
    /// ERR_NOT_FOUND` (no such asset or upload) or `409 ERR_CONFLICT` (completed).
    private func openPart(key: String, uploadID: String) async throws -> (UUID, MultipartUpload) {
        let segments = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard segments.count == 3, segments[0] == "uploads", let id = UUID(uuidString: String(segments[1])),
              let asset = try await dependencies.assets.get(id), asset.sourceKey == key,
              let upload = try await dependencies.lifecycle.multipartUpload(of: id), upload.uploadID == uploadID
        else { throw APIError(.notFound, "no such upload; its part URLs no longer take parts") }
        guard asset.status == .awaitingUpload else {
            throw APIError(.conflict, "this asset's upload was already completed")
        }
        return (id, upload)
    }
}
