import PulseStorage

/// Turns a multipart upload's stored parts into the upload's object, once the client's part list
/// checks out against them. Nothing the client declared is believed: every part 1...part_count
/// must be named once, in order, with the stored part's ETag, and every stored part must have its
/// planned length, so the object is exactly the declared size. `AssetLifecycle.complete` calls it
/// before accepting the object as any upload.
struct MultipartAssembly: Sendable {
    let store: any ObjectStore

    /// The parts the store holds for `upload` of the object at `key`; `uploadNotFound` when the
    /// store no longer knows the upload.
    func storedParts(key: String, upload: MultipartUpload) async throws -> [UploadedPart] {
        do {
            return try await store.listParts(key: key, uploadID: upload.uploadID)
        } catch let error as StorageError where error.code == .notFound {
            throw AssetLifecycleError.multipartUploadGone
        }
    }

    /// Checks `named` against the stored parts and completes the upload into `key`. A concurrent
    /// completion that finished first is no error: its object is accepted as usual.
    func assemble(key: String, upload: MultipartUpload, named: [CompletedPart]) async throws {
        let plan = upload.plan
        var previous = 0
        for part in named {
            guard plan.partNumbers.contains(part.partNumber) else { throw AssetLifecycleError.partNotInPlan(part.partNumber, plan) }
            guard part.partNumber > previous else {
                throw AssetLifecycleError(.partInvalid, "parts must be named once each, in ascending order (part \(part.partNumber))")
            }
            previous = part.partNumber
        }
        let held: [UploadedPart]
        do {
            held = try await storedParts(key: key, upload: upload)
        } catch let error as AssetLifecycleError where error.code == .uploadNotFound {
            if try await store.head(key: key) != nil { return }
            throw error
        }
        let stored = Dictionary(held.map { ($0.partNumber, $0) }, uniquingKeysWith: { $1 })
        let namedNumbers = Set(named.map(\.partNumber))
        let missing = plan.partNumbers.filter { !namedNumbers.contains($0) || stored[$0] == nil }
        if !missing.isEmpty {
            throw AssetLifecycleError(.partMissing, "parts \(Self.describe(missing)) of \(plan.partCount) have not been uploaded or are not named")
        }
        for part in named {
            let storedPart = stored[part.partNumber]!
            guard storedPart.etag.lowercased() == part.bareETag.lowercased() else {
                throw AssetLifecycleError(
                    .partETagMismatch, "part \(part.partNumber)'s ETag is not the stored part's; upload the part again or send its ETag")
            }
            guard storedPart.size == plan.length(ofPart: part.partNumber) else {
                throw AssetLifecycleError(
                    .partInvalid,
                    "part \(part.partNumber) is \(storedPart.size) bytes; it must be \(plan.length(ofPart: part.partNumber)): upload it again")
            }
        }
        do {
            try await store.completeMultipartUpload(key: key, uploadID: upload.uploadID, parts: named)
        } catch let error as StorageError where error.code == .invalidArgument {
            // Checked above; a part replaced meanwhile is the one way left.
            throw AssetLifecycleError(.partETagMismatch, "a part changed while the upload was being completed; list the parts and complete again")
        } catch let error as StorageError where error.code == .notFound {
            guard try await store.head(key: key) != nil else { throw AssetLifecycleError.multipartUploadGone }
        }
    }

    /// `1, 3, 5` (the first ten, then how many more).
    static func describe(_ numbers: [Int]) -> String {
        let shown = numbers.prefix(10).map(String.init).joined(separator: ", ")
        return numbers.count > 10 ? "\(shown) and \(numbers.count - 10) more" : shown
    }
}
