public import Foundation
public import PulseDatabase
public import PulseStorage

/// The multipart upload an asset's file arrives through (`"upload_type": "multipart"`): the store's
/// upload id and the part plan made from the declared size, stored in `multipart_uploads`.
public struct MultipartUpload: Sendable, Hashable {
    public var assetID: UUID
    /// The store's upload id (S3's `UploadId`, or the local store's).
    public var uploadID: String
    /// How the declared size is cut into parts.
    public var plan: PartPlan
    /// Epoch seconds.
    public var createdAt: Double
    /// For a tus upload (the server sends the parts, `TusUploads`), the bytes stored so far; nil
    /// when the client sends the parts itself.
    public var tusOffset: Int64? = nil

    /// Whether the server drives this upload for a tus client.
    public var isTus: Bool { tusOffset != nil }
}

/// Typed access to `multipart_uploads`, the same on both engines. A row goes with its asset (cascade).
public struct MultipartUploads: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// Binds an upload to its asset (one per asset).
    public func insert(_ upload: MultipartUpload) async throws {
        try await database.execute(
            "INSERT INTO multipart_uploads (asset_id, upload_id, part_size, size, created_at, tus_offset) VALUES ($1, $2, $3, $4, $5, $6)",
            [.text(upload.assetID.databaseText), .text(upload.uploadID), .int(upload.plan.partSize), .int(upload.plan.size),
             .double(upload.createdAt), upload.tusOffset.map { .int($0) } ?? .null]
        )
    }

    /// The asset's multipart upload, or nil when its file arrives by a single PUT.
    public func get(_ assetID: UUID) async throws -> MultipartUpload? {
        guard let row = try await database.queryFirst(
            "SELECT upload_id, part_size, size, created_at, tus_offset FROM multipart_uploads WHERE asset_id = $1",
            [.text(assetID.databaseText)]
        ) else { return nil }
        let plan: PartPlan
        do {
            plan = try PartPlan(size: try row.int("size"), preferredPartSize: try row.int("part_size"))
        } catch {
            throw DatabaseError(.decoding, message: "multipart_uploads holds an impossible part plan", underlying: error)
        }
        return MultipartUpload(
            assetID: assetID, uploadID: try row.text("upload_id"), plan: plan, createdAt: try row.double("created_at"),
            tusOffset: try row.optionalInt("tus_offset"))
    }
}

extension AssetLifecycle {
    /// Starts and binds the multipart upload of `asset`, just created by `create` (driven by the
    /// server for a tus client when `tus`); if that fails, the upload is aborted and the asset deleted.
    func startMultipart(for asset: Asset, plan: PartPlan, contentType: String?, tus: Bool) async throws -> MultipartUpload {
        guard let key = asset.sourceKey else { throw StorageError(.invalidKey, "the new asset has no upload key") }
        do {
            let uploadID = try await store.createMultipartUpload(key: key, contentType: contentType)
            let upload = MultipartUpload(
                assetID: asset.id, uploadID: uploadID, plan: plan, createdAt: asset.createdAt, tusOffset: tus ? 0 : nil)
            do {
                try await multipartUploads.insert(upload)
            } catch {
                try? await store.abortMultipartUpload(key: key, uploadID: uploadID)
                throw error
            }
            return upload
        } catch {
            _ = try? await delete(asset.id)
            throw error
        }
    }

    /// Aborts the asset's multipart upload while it is unfinished (the asset still awaits its
    /// upload), discarding every part stored; part of `delete`, so `DELETE /v1/assets/{id}` and
    /// the reaper's abandoned uploads leave no parts behind. An upload already completed or
    /// aborted is no error.
    func abortUnfinishedUpload(_ asset: Asset) async throws {
        guard asset.status == .awaitingUpload, let key = asset.sourceKey,
              let upload = try await multipartUploads.get(asset.id)
        else { return }
        try await store.abortMultipartUpload(key: key, uploadID: upload.uploadID)
        logger.debug("multipart upload aborted", metadata: ["asset.id": "\(asset.id)"])
    }
}
