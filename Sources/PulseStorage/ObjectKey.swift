/// The rules every key (and prefix) follows, in both stores, so a key that works locally works on
/// S3 too and no key can ever name a file outside the local store's folder.
enum ObjectKey {
    /// The first path segment reserved for the local store's temporary files.
    static let stagingSegment = ".staging"
    /// S3's limit on a full key, in UTF-8 bytes.
    static let maxLength = 1024

    /// Throws `invalidKey` unless `key` is a relative path of non-empty segments, none `.` or `..`,
    /// without backslashes, control characters (NUL included) or the reserved staging folder.
    static func validate(_ key: String) throws(StorageError) {
        try validatePrefix(key)
        if key.isEmpty || key.hasSuffix("/") {
            throw StorageError(.invalidKey, "a key must name an object, not a folder", key: key)
        }
    }

    /// A prefix follows the key rules, but may be empty, end with `/`, or stop mid-segment.
    static func validatePrefix(_ prefix: String) throws(StorageError) {
        if prefix.utf8.count > maxLength {
            throw StorageError(.invalidKey, "longer than \(maxLength) bytes", key: prefix)
        }
        if prefix.hasPrefix("/") {
            throw StorageError(.invalidKey, "absolute paths are not keys", key: prefix)
        }
        for scalar in prefix.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\\" {
            throw StorageError(.invalidKey, "control characters and backslashes are not allowed", key: prefix)
        }
        var segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
        if prefix.hasSuffix("/") { segments.removeLast() }
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty && !(index == 0 && segments.count == 1) {
                throw StorageError(.invalidKey, "empty path segments are not allowed", key: prefix)
            }
            if segment == "." || segment == ".." {
                throw StorageError(.invalidKey, "'.' and '..' segments are not allowed", key: prefix)
            }
            if index == 0 && segment == stagingSegment {
                throw StorageError(.invalidKey, "'\(stagingSegment)' is reserved", key: prefix)
            }
        }
    }
}
