import Foundation
import Hummingbird
import PulseJobs
import PulseStorage

/// Resumable uploads: an asset created with `"upload_type": "multipart"` receives its file in
/// parts that may be sent in any order, again, and after the client lost everything but the
/// asset id and token.
///
/// - `POST /v1/assets/{id}/upload/parts` `{"part_numbers": [...]}` (at most 100): a PUT URL per
///   part (S3's presigned `UploadPart`, or our signed `/storage/` URL), valid as long as an upload URL.
/// - `GET /v1/assets/{id}/upload/parts`: the parts stored so far, with ETag and size.
/// - `POST /v1/assets/{id}/complete` `{"parts": [{"part_number", "etag"}]}`: checked against
///   the stored parts, assembled, then accepted as any upload (`AssetRoutes.complete`).
/// - `DELETE /v1/assets/{id}/upload`: aborts the unfinished upload and deletes the asset.
///
/// Every call takes the API key or the asset's token. Parts are taken while the asset awaits its
/// upload and until `expires_at` (creation + `PULSE_TOKEN_TTL_SECONDS`).
struct MultipartRoutes: Sendable {
    let dependencies: APIDependencies

    /// Most part URLs one request may ask for.
    static let maxPartsPerRequest = 100

    func register(on assets: RouterGroup<some RequestContext>) {
        assets.post(":id/upload/parts") { request, context in try await self.partURLs(request, id: context.parameters.get("id")) }
        assets.get(":id/upload/parts") { request, context in try await self.storedParts(request, id: context.parameters.get("id")) }
        assets.delete(":id/upload") { request, context in try await self.abort(request, id: context.parameters.get("id")) }
    }

    // MARK: - POST /v1/assets with "upload_type": "multipart"

    struct Instructions: Encodable {
        var method = "multipart"
        var partSize: Int64
        var partCount: Int
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case method
            case partSize = "part_size"
            case partCount = "part_count"
            case expiresAt = "expires_at"
        }
    }

    /// The part plan of a multipart upload of `size` bytes (required).
    func plan(size: Int64?) throws -> PartPlan {
        guard let size, size > 0 else {
            throw APIError(.invalidRequest, "a multipart upload needs the file's size (at least 1 byte)")
        }
        do {
            return try PartPlan(size: size, preferredPartSize: dependencies.configuration.uploadPartBytes)
        } catch {
            throw AssetRoutes.tooLarge(dependencies.configuration.maxUploadBytes)
        }
    }

    /// What the client is told of `upload`, the asset's multipart upload.
    func instructions(_ asset: Asset, _ upload: MultipartUpload) -> Instructions {
        Instructions(partSize: upload.plan.partSize, partCount: upload.plan.partCount, expiresAt: Timestamp.string(expiry(of: asset)))
    }

    // MARK: - POST /v1/assets/{id}/upload/parts

    struct PartsRequest: Decodable {
        var partNumbers: [Int]
        enum CodingKeys: String, CodingKey { case partNumbers = "part_numbers" }
    }

    struct PartURL: Encodable {
        var partNumber: Int
        var method = "PUT"
        var url: String
        var headers: [String: String] = [:]
        /// The exact number of bytes the part must have.
        var size: Int64
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case method, url, headers, size
            case partNumber = "part_number"
            case expiresAt = "expires_at"
        }
    }

    struct PartURLs: Encodable { var parts: [PartURL] }

    func partURLs(_ request: Request, id text: String?) async throws -> Response {
        let d = dependencies
        let (asset, upload) = try await openUpload(request, id: text)
        guard d.now().timeIntervalSince1970 < expiry(of: asset) else {
            throw APIError(.uploadExpired, "this upload's time is over; create a new asset to upload the file")
        }
        let numbers = try await JSON.decode(PartsRequest.self, from: request).partNumbers
        guard !numbers.isEmpty, numbers.count <= Self.maxPartsPerRequest else {
            throw APIError(.invalidRequest, "part_numbers must name 1 to \(Self.maxPartsPerRequest) parts")
        }
        guard Set(numbers).count == numbers.count else { throw APIError(.invalidRequest, "part_numbers names a part twice") }
        if let wrong = numbers.first(where: { !upload.plan.partNumbers.contains($0) }) {
            throw APIError(.partInvalid, "part \(wrong) is not one of this upload's parts 1 to \(upload.plan.partCount)")
        }
        let base = d.links.base(for: request)
        var parts: [PartURL] = []
        for number in numbers {
            let (url, expires) = try await d.links.uploadPartURL(
                key: try sourceKey(asset), uploadID: upload.uploadID, partNumber: number, base: base, now: d.now())
            parts.append(PartURL(partNumber: number, url: url, size: upload.plan.length(ofPart: number),
                                 expiresAt: Timestamp.string(expires.timeIntervalSince1970)))
        }
        return try JSON.response(PartURLs(parts: parts))
    }

    // MARK: - GET /v1/assets/{id}/upload/parts

    struct StoredPart: Encodable {
        var partNumber: Int
        var etag: String
        var size: Int64
        enum CodingKeys: String, CodingKey {
            case etag, size
            case partNumber = "part_number"
        }
    }

    struct StoredParts: Encodable {
        var parts: [StoredPart]
        var partSize: Int64
        var partCount: Int
        var size: Int64
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case parts, size
            case partSize = "part_size"
            case partCount = "part_count"
            case expiresAt = "expires_at"
        }
    }

    func storedParts(_ request: Request, id text: String?) async throws -> Response {
        let (asset, upload) = try await openUpload(request, id: text)
        let parts = try await listParts(asset, upload)
        return try JSON.response(StoredParts(
            parts: parts.map { StoredPart(partNumber: $0.partNumber, etag: $0.etag, size: $0.size) },
            partSize: upload.plan.partSize, partCount: upload.plan.partCount, size: upload.plan.size,
            expiresAt: Timestamp.string(expiry(of: asset))))
    }

    // MARK: - DELETE /v1/assets/{id}/upload

    /// Aborts the upload (its parts are discarded) and deletes the asset, which exists only for it.
    func abort(_ request: Request, id text: String?) async throws -> Response {
        let (asset, _) = try await openUpload(request, id: text)
        try await dependencies.lifecycle.delete(asset.id)
        return Response(status: .noContent)
    }

    // MARK: - POST /v1/assets/{id}/complete of a multipart upload

    struct CompleteRequest: Decodable {
        struct Part: Decodable {
            var partNumber: Int
            var etag: String
            enum CodingKeys: String, CodingKey {
                case etag
                case partNumber = "part_number"
            }
        }
        var parts: [Part]
    }

    /// Checks the client's part list against the parts the store holds and assembles them into
    /// the upload's object; `AssetRoutes.complete` then accepts that object as any upload (size
    /// limit, `SourceIdentity`, queued). Nothing the client declared is believed: every part
    /// 1...part_count must be named once, in order, with the stored part's ETag, and every stored
    /// part must have its planned length (so the object is exactly the declared size).
    func assemble(_ request: Request, asset: Asset, upload: MultipartUpload) async throws {
        let d = dependencies
        let named = try await JSON.decode(CompleteRequest.self, from: request).parts
        let plan = upload.plan
        var previous = 0
        for part in named {
            guard plan.partNumbers.contains(part.partNumber) else {
                throw APIError(.partInvalid, "part \(part.partNumber) is not one of this upload's parts 1 to \(plan.partCount)")
            }
            guard part.partNumber > previous else {
                throw APIError(.partInvalid, "parts must be named once each, in ascending order (part \(part.partNumber))")
            }
            previous = part.partNumber
        }
        let held: [UploadedPart]
        do {
            held = try await d.store.listParts(key: try sourceKey(asset), uploadID: upload.uploadID)
        } catch let error as StorageError where error.code == .notFound {
            // A concurrent complete assembled it already: the object is accepted as usual.
            if try await d.store.head(key: try sourceKey(asset)) != nil { return }
            throw APIError(.uploadNotFound, "the multipart upload no longer exists; create a new asset")
        }
        let stored = Dictionary(held.map { ($0.partNumber, $0) }, uniquingKeysWith: { $1 })
        let namedNumbers = Set(named.map(\.partNumber))
        let missing = plan.partNumbers.filter { !namedNumbers.contains($0) || stored[$0] == nil }
        if !missing.isEmpty {
            throw APIError(.partMissing, "parts \(Self.describe(missing)) of \(plan.partCount) have not been uploaded or are not named")
        }
        for part in named {
            let storedPart = stored[part.partNumber]!
            guard storedPart.etag.lowercased() == CompletedPart(partNumber: part.partNumber, etag: part.etag).bareETag.lowercased() else {
                throw APIError(.partETagMismatch, "part \(part.partNumber)'s ETag is not the stored part's; upload the part again or send its ETag")
            }
            guard storedPart.size == plan.length(ofPart: part.partNumber) else {
                throw APIError(.partInvalid, "part \(part.partNumber) is \(storedPart.size) bytes; it must be \(plan.length(ofPart: part.partNumber)): upload it again")
            }
        }
        do {
            try await d.store.completeMultipartUpload(
                key: try sourceKey(asset), uploadID: upload.uploadID,
                parts: named.map { CompletedPart(partNumber: $0.partNumber, etag: $0.etag) })
        } catch let error as StorageError where error.code == .invalidArgument {
            // Checked above; a part replaced meanwhile is the one way left.
            throw APIError(.partETagMismatch, "a part changed while the upload was being completed; list the parts and complete again")
        } catch let error as StorageError where error.code == .notFound {
            // A concurrent complete finished it first: the object is there, and accepted as usual.
            guard try await d.store.head(key: try sourceKey(asset)) != nil else {
                throw APIError(.uploadNotFound, "the multipart upload no longer exists; create a new asset")
            }
        }
    }

    // MARK: - Helpers

    /// The asset (API key or its token) and its multipart upload, while the upload is unfinished.
    private func openUpload(_ request: Request, id text: String?) async throws -> (Asset, MultipartUpload) {
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAccess(to: id, request)
        let asset = try await d.existingAsset(id)
        guard let upload = try await MultipartUploads(database: d.database).get(id) else {
            throw APIError(.conflict, "this asset's upload is a single PUT to its upload URL, not a multipart upload")
        }
        guard asset.status == .awaitingUpload else {
            throw APIError(.conflict, "this asset's upload was already completed")
        }
        return (asset, upload)
    }

    private func listParts(_ asset: Asset, _ upload: MultipartUpload) async throws -> [UploadedPart] {
        do {
            return try await dependencies.store.listParts(key: try sourceKey(asset), uploadID: upload.uploadID)
        } catch let error as StorageError where error.code == .notFound {
            throw APIError(.uploadNotFound, "the multipart upload no longer exists; create a new asset")
        }
    }

    private func sourceKey(_ asset: Asset) throws -> String {
        guard let key = asset.sourceKey else { throw APIError(.internalError, "the asset has no upload key") }
        return key
    }

    /// When the upload stops taking parts: creation + the token lifetime, in whole seconds as the
    /// token's expiry (epoch seconds).
    private func expiry(of asset: Asset) -> Double {
        asset.createdAt.rounded(.down) + Double(dependencies.configuration.tokenLifetime.components.seconds)
    }

    /// `1, 3, 5` (the first ten, then how many more).
    static func describe(_ numbers: [Int]) -> String {
        let shown = numbers.prefix(10).map(String.init).joined(separator: ", ")
        return numbers.count > 10 ? "\(shown) and \(numbers.count - 10) more" : shown
    }
}

extension Links {
    /// A URL the client PUTs part `partNumber` to, and when it stops working: our own signed
    /// `/storage/` URL on the base the client used, or S3's presigned `UploadPart`.
    func uploadPartURL(key: String, uploadID: String, partNumber: Int, base: String, now: Date) async throws -> (url: String, expires: Date) {
        let lifetime = configuration.uploadURLLifetime
        let expires = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        if let secret = localSigningSecret {
            let signer = try LocalURLSigner(secret: secret, baseURL: base + "/storage")
            let url = signer.url(method: "PUT", key: key, expires: expires,
                                 query: LocalStore.partQuery(uploadID: uploadID, partNumber: partNumber))
            return (url, Date(timeIntervalSince1970: Double(expires)))
        }
        let url = try await store.presignedUploadPartURL(key: key, uploadID: uploadID, partNumber: partNumber, expiresIn: lifetime)
        return (url, Date(timeIntervalSince1970: Double(expires)))
    }
}
