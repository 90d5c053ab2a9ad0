/// The MIME type of a served object, from its name (the local store keeps no content types).
enum MediaType {
    static func forKey(_ key: String) -> String {
        let ext = key.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "m3u8": return "application/vnd.apple.mpegurl"
        case "ts": return "video/mp2t"
        case "m4s": return "video/iso.segment"
        case "mp4", "m4v": return "video/mp4"
        case "m4a": return "audio/mp4"
        case "aac": return "audio/aac"
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "webp": return "image/webp"
        case "vtt": return "text/vtt"
        case "mov": return "video/quicktime"
        case "webm": return "video/webm"
        default: return "application/octet-stream"
        }
    }

    /// The type an upload named `filename` most likely has, for a create that names none: a
    /// source's extension says what a client would have sent (the worker probes it regardless).
    static func forUpload(named filename: String) -> String {
        guard filename.contains(".") else { return "application/octet-stream" }
        switch filename.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "mkv": return "video/x-matroska"
        case "avi": return "video/x-msvideo"
        case "3gp": return "video/3gpp"
        case "mpg", "mpeg": return "video/mpeg"
        case "wav": return "audio/wav"
        case "mp3": return "audio/mpeg"
        default: return forKey(filename)
        }
    }
}
