public import Foundation
public import PulseDatabase
public import PulseStorage

/// The bookkeeping of tus uploads (`"upload_type": "tus"`), in their `multipart_uploads` row: a tus
/// upload is a multipart upload in the store whose parts the server sends, cut from the bytes
/// the client PATCHes. The row holds the offset (every byte before it is stored: in the parts
/// numbered below it, and the rest in the pending object of the part it falls in, see
/// `StorageKeys.tusPending`), so any `serve` can take the next PATCH, after a restart too.
///
/// One PATCH at a time writes to an upload, whichever process it reaches: it holds the row's
/// lease (`tus_lock_owner` until `tus_lock_expires_at`), renewed while the body arrives and
/// given back at its end; a lease whose holder died ends by itself. The offset only moves under
/// the lease and from the value it had (`advance`), after the bytes are in the store.
public struct TusUploads: Sendable {
    public let database: any Database
    public let clock: EpochClock

    public init(database: any Database, clock: EpochClock = .system) {
        self.database = database
        self.clock = clock
    }

    /// Takes the upload's lease for `owner` until `lease` from now; false when another holder's
    /// lease is still running (or the asset has no tus upload).
    public func lock(_ id: UUID, owner: String, for lease: Duration) async throws -> Bool {
        let now = clock.now()
        return try await database.execute(
            """
            UPDATE multipart_uploads SET tus_lock_owner = $2, tus_lock_expires_at = $3
            WHERE asset_id = $1 AND tus_offset IS NOT NULL
              AND (tus_lock_owner IS NULL OR tus_lock_owner = $2 OR tus_lock_expires_at < $4)
            """,
            [.text(id.databaseText), .text(owner), .double(now + Self.seconds(lease)), .double(now)]
        ) == 1
    }

    /// Extends `owner`'s lease to `lease` from now; false when it is no longer `owner`'s.
    public func renew(_ id: UUID, owner: String, for lease: Duration) async throws -> Bool {
        try await database.execute(
            "UPDATE multipart_uploads SET tus_lock_expires_at = $3 WHERE asset_id = $1 AND tus_lock_owner = $2",
            [.text(id.databaseText), .text(owner), .double(clock.now() + Self.seconds(lease))]
        ) == 1
    }

    /// Gives `owner`'s lease back (nothing when it is no longer `owner`'s).
    public func unlock(_ id: UUID, owner: String) async throws {
        try await database.execute(
            "UPDATE multipart_uploads SET tus_lock_owner = NULL, tus_lock_expires_at = NULL WHERE asset_id = $1 AND tus_lock_owner = $2",
            [.text(id.databaseText), .text(owner)]
        )
    }

    /// Records that the bytes stored grew from `from` to `to`; false (nothing recorded) when the
    /// lease is no longer `owner`'s or the offset is no longer `from`.
    public func advance(_ id: UUID, owner: String, from: Int64, to: Int64) async throws -> Bool {
        try await database.execute(
            "UPDATE multipart_uploads SET tus_offset = $4 WHERE asset_id = $1 AND tus_lock_owner = $2 AND tus_offset = $3",
            [.text(id.databaseText), .text(owner), .int(from), .int(to)]
        ) == 1
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension StorageKeys {
    /// `uploads/{id}/tus-pending/`: the bytes of tus uploads waiting for their part to fill.
    public static func tusPendingPrefix(_ id: UUID) -> String { uploadsPrefix(id) + "tus-pending/" }

    /// The bytes received so far of part `part` of a tus upload (the part's start up to the
    /// offset), kept in storage so the next PATCH may reach any `serve`. A file name has no `/`,
    /// so this never is an upload's own key.
    public static func tusPending(_ id: UUID, part: Int) -> String { tusPendingPrefix(id) + String(part) }
}

extension AssetLifecycle {
    /// The last byte of `asset`'s tus `upload` is stored (every part is in the store): the parts
    /// are assembled and the object accepted as any upload, through `complete` (the size limit,
    /// `uploaded`). The pending objects go. Returns true when this call moved the asset on.
    @discardableResult
    public func completeTus(_ asset: Asset, _ upload: MultipartUpload, sizeLimit: Int64) async throws -> Bool {
        let stored = try await storedParts(of: asset, upload)
        let named = stored.map { CompletedPart(partNumber: $0.partNumber, etag: $0.etag) }
        let moved = try await complete(asset, multipart: (upload, named), sizeLimit: sizeLimit)
        _ = try? await store.deletePrefix(StorageKeys.tusPendingPrefix(asset.id))
        return moved
    }
}
