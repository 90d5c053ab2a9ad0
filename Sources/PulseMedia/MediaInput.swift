/// Where ffmpeg reads a source from: a local path or an http(s) URL (a presigned S3 URL).
///
/// Decides the protocol whitelist, so that ffmpeg opens only what this input needs.
public struct MediaInput: Sendable, CustomStringConvertible {
    /// What ffmpeg is given after `-i`.
    public let location: String
    /// `-protocol_whitelist` for this input.
    public let protocolWhitelist: String

    /// A local file. ffmpeg may open only local files (`file`).
    public static func file(_ path: String) -> MediaInput {
        // "file:" prefix so a path such as "foo:bar.mp4" is not taken for a protocol.
        let absolute = path.hasPrefix("/") ? path : FileSystem.currentDirectory + "/" + path
        return MediaInput(location: "file:" + absolute, protocolWhitelist: "file")
    }

    /// An http(s) URL. Plain `http` only when the policy allows it: for any host
    /// (`PULSE_ALLOW_HTTP`), or for the S3 endpoint the operator configured, and that host alone.
    public static func url(_ url: String, plainHTTP: PlainHTTPPolicy) throws(MediaError) -> MediaInput {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            return MediaInput(location: url, protocolWhitelist: "https,tls,tcp")
        }
        if lower.hasPrefix("http://") {
            guard plainHTTP.allows(url) else {
                throw MediaError(.inputNotAllowed, "plain http input is not allowed; use https or enable plain http for a local endpoint")
            }
            return MediaInput(location: url, protocolWhitelist: "http,tcp")
        }
        throw MediaError(.inputNotAllowed, "unsupported input URL scheme")
    }

    /// A path or an http(s) URL, as given on the command line.
    public static func parse(_ string: String, plainHTTP: PlainHTTPPolicy) throws(MediaError) -> MediaInput {
        let lower = string.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            return try url(string, plainHTTP: plainHTTP)
        }
        if lower.hasPrefix("file://") {
            return file(String(string.dropFirst("file://".count)))
        }
        return file(string)
    }

    /// Options that go before `-i` on every ffmpeg/ffprobe run over this input: the protocol and
    /// demuxer whitelists and, for network inputs, a read timeout (a stalled server fails the run
    /// instead of hanging it) and reconnection across short network blips.
    func inputOptions(demuxers: String = DemuxerWhitelist.value) -> [String] {
        var options = ["-protocol_whitelist", protocolWhitelist, "-format_whitelist", demuxers]
        if isRemote {
            options += [
                "-rw_timeout", "30000000",
                "-reconnect", "1", "-reconnect_on_network_error", "1", "-reconnect_delay_max", "5",
            ]
        }
        return options
    }

    /// Whether the source is read over the network.
    public var isRemote: Bool { protocolWhitelist != "file" }

    /// The location with secrets removed, for logs and messages.
    public var description: String { Redaction.redact(location) }
}

/// Demuxers ffmpeg may use on user input. Playlists (hls, concat), images and raw formats are
/// left out: ffmpeg 5.1 opens an HLS playlist saved as `.mp4` and reads the files it names.
enum DemuxerWhitelist {
    static let value = [
        "mov", "matroska", "avi", "mpegts", "flv", "asf", "mpeg", "mxf", "ogg", "ivf",
        "mp3", "aac", "wav", "flac", "m4v",
    ].joined(separator: ",")
}
