import PulseJobs

extension APIError {
    /// The HTTP answer to a refusal of `AssetLifecycle`: its message as it is, under the code
    /// clients know. The one place these are translated (`ErrorMiddleware` calls it).
    init(_ refusal: AssetLifecycleError) {
        let code: Code
        switch refusal.code {
        case .uploadNotFound: code = .uploadNotFound
        case .uploadTooLarge: code = .uploadTooLarge
        case .partMissing: code = .partMissing
        case .partInvalid: code = .partInvalid
        case .partETagMismatch: code = .partETagMismatch
        case .idempotencyKeyReused: code = .idempotencyKeyReused
        case .idempotentAssetDeleted: code = .notFound
        case .noUploadKey: code = .internalError
        }
        self.init(code, refusal.message)
    }
}
