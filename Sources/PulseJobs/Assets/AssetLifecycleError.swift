public import PulseStorage

/// Why an `AssetLifecycle` operation refused a request: a client's mistake or a state the asset
/// cannot move from, never an outage (those stay `StorageError`/`DatabaseError`). The message is
/// written for the client who sent the request; the API answers with it as it is.
public struct AssetLifecycleError: Error, Sendable, CustomStringConvertible {
    /// What was refused. An enum, so the one place that turns these into HTTP answers
    /// (PulseAPI) must decide about every case.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// `complete` before the upload is in storage, or a multipart upload that no longer exists.
        case uploadNotFound
        /// The declared or uploaded size is above the limit.
        case uploadTooLarge
        /// A multipart completion lacks a part, or names one not uploaded yet.
        case partMissing
        /// A part outside the plan, named twice or out of order, or stored with the wrong size.
        case partInvalid
        /// A part named with an ETag other than the stored part's.
        case partETagMismatch
        /// An `Idempotency-Key` used before with another request.
        case idempotencyKeyReused
        /// An `Idempotency-Key` whose asset has been deleted since.
        case idempotentAssetDeleted
        /// An asset waiting for its upload without an upload key (never made by `create`).
        case noUploadKey
    }

    /// What was refused.
    public var code: Code
    /// A sentence for the client.
    public var message: String

    /// A refusal with a message for the client.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    // The refusals written in more than one place, each with its one message.

    /// The size limit, for a declared size and for an upload found larger.
    public static func uploadTooLarge(limit: Int64) -> AssetLifecycleError {
        AssetLifecycleError(.uploadTooLarge, "uploads are limited to \(limit) bytes")
    }

    /// Part `number` is not in `plan`.
    public static func partNotInPlan(_ number: Int, _ plan: PartPlan) -> AssetLifecycleError {
        AssetLifecycleError(.partInvalid, "part \(number) is not one of this upload's parts 1 to \(plan.partCount)")
    }

    /// The store no longer has the multipart upload (aborted, or expired there).
    static let multipartUploadGone = AssetLifecycleError(.uploadNotFound, "the multipart upload no longer exists; create a new asset")

    /// The asset has no upload key.
    public static let noUploadKey = AssetLifecycleError(.noUploadKey, "the asset has no upload key")
}
