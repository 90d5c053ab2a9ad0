import PulseSupport
public import Foundation

/// The API key of the embedded default: generated on first start and kept in the data folder
/// (mode 0600), so restarts keep it; `PULSE_API_KEY` overrides it.
public enum APIKeyFile {
    /// The file's name inside the data folder.
    public static let fileName = "api-key"

    /// The key stored under `dataDirectory`, or a new one written there; `created` tells whether
    /// it was made now (the caller prints it once).
    public static func loadOrCreate(dataDirectory: String) throws -> (key: String, created: Bool) {
        let path = "\(dataDirectory)/\(fileName)"
        if let existing = read(path) { return (existing, false) }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let key = generate()
        // O_EXCL: when two processes start at once, one creates the file and the other reads it.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST, let existing = read(path) { return (existing, false) }
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let bytes = Array((key + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        return (key, true)
    }

    /// A new random key: `pv_` and 32 random bytes in hex.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "pv_" + Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return key.isEmpty ? nil : key
    }
}
