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
///   the stored parts, assembled, then accepted as any upload (`AssetRoutes.complete`, through
///   `AssetLifecycle.complete`).
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

    struct PartsRequest: StrictJSONBody {
        typealias Fields = CodingKeys
        var partNumbers: [Int]
        enum CodingKeys: String, CodingKey, CaseIterable { case partNumbers = "part_numbers" }
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
            throw AssetLifecycleError.partNotInPlan(wrong, upload.plan)
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
        let parts = try await dependencies.lifecycle.storedParts(of: asset, upload)
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

    struct CompleteRequest: StrictJSONBody {
        typealias Fields = CodingKeys
        struct Part: Decodable {
            var partNumber: Int
            var etag: String
            enum CodingKeys: String, CodingKey {
                case etag
                case partNumber = "part_number"
            }
        }
        var parts: [Part]
        enum CodingKeys: String, CodingKey, CaseIterable { case parts }
    }

    /// The parts the body of a multipart upload's `complete` names, in its order; checked and
    /// assembled by `AssetLifecycle.complete`.
    static func namedParts(_ request: Request) async throws -> [CompletedPart] {
        try await JSON.decode(CompleteRequest.self, from: request).parts.map { CompletedPart(partNumber: $0.partNumber, etag: $0.etag) }
    }

    // MARK: - Helpers

    /// The asset (API key or its token) and its multipart upload, while the upload is unfinished.
    private func openUpload(_ request: Request, id text: String?) async throws -> (Asset, MultipartUpload) {
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAccess(to: id, request)
        let asset = try await d.existingAsset(id)
        guard let upload = try await d.lifecycle.multipartUpload(of: id), !upload.isTus else {
            throw APIError(.conflict, "this asset's upload is not a multipart upload (a single PUT, or tus)")
        }
        guard asset.status == .awaitingUpload else {
            throw APIError(.conflict, "this asset's upload was already completed")
        }
        return (asset, upload)
    }

    private func sourceKey(_ asset: Asset) throws -> String {
        guard let key = asset.sourceKey else { throw AssetLifecycleError.noUploadKey }
        return key
    }

    /// When the upload stops taking parts: creation + the token lifetime, in whole seconds as the
    /// token's expiry (epoch seconds).
    func expiry(of asset: Asset) -> Double {
        asset.createdAt.rounded(.down) + Double(dependencies.configuration.tokenLifetime.components.seconds)
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
