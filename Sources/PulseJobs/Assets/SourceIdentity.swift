public import PulseStorage

/// One version of an uploaded object, as `complete` saw it: its size with the store's ETag (S3),
/// or with its modification time where the store has none (the local folder). Another upload to
/// the same key is another identity, so a worker can tell that the object it is about to read is
/// no longer the one that was accepted (`ERR_SOURCE_CHANGED`). (S3 giving identical bytes the same
/// ETag is no hole: the same bytes are the same source.)
public enum SourceIdentity {
    /// The identity of `object`, as stored in `assets.source_identity`.
    public static func of(_ object: ObjectInfo) -> String {
        if let etag = object.etag, !etag.isEmpty { return "size=\(object.size);etag=\(etag)" }
        if let modified = object.lastModified { return "size=\(object.size);mtime=\(modified.timeIntervalSince1970)" }
        return "size=\(object.size)"
    }
}
