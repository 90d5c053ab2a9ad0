// Why not apple/swift-configuration (1.4.0): it would cost nothing to build, since AsyncHTTPClient
// already depends on it and its `Configuration` module is already compiled into every build of this
// package; it is left out because it does not fit what this reader must do. Its getters with a
// default (`int(forKey:default:)`) return the default when a value does not convert, reporting
// the failure only to an access reporter: `PULSE_WORKER_CONCURRENCY=abc` silently becoming 1 is
// the very bug this reader removes. Its `required...` getters throw at the first bad value, and
// their errors name the encoded key, not the flag or variable that gave the value, whereas here
// every problem is collected and named by `--flag` or `VARIABLE`. Our names are a public contract
// that does not derive from config keys (`--preset` is `PULSE_X264_PRESET`, `--data` is
// `PULSE_DATA_DIR`, `AWS_ENDPOINT_URL_S3` falls back to `AWS_ENDPOINT_URL`), so
// `CommandLineArgumentsProvider` cannot read our flags and ArgumentParser's options would be fed in
// through an `InMemoryProvider` by hand, and an empty variable must count as unset. What would
// remain of it, looking up a flag and then a variable, is the three lines of `SettingsReader.given`.
// Worth revisiting when a configuration file or a secrets folder (`DirectoryFilesProvider`) is
// wanted: `given` is the one place that would then ask a `ConfigReader`.
import Foundation
public import Logging
import PulseDatabase
public import PulseJobs
public import PulseMedia
import PulseStorage
import SigV4

/// Every setting of a Pulse process, typed and validated: where state lives, ffmpeg and the
/// pipeline, workers, the HTTP API, the reaper and logging.
///
/// ``init(flags:environment:)`` reads it once at start-up (flags win over environment variables,
/// which win over the documented defaults; README's Configuration and docs/API.md list them) and
/// throws one `ConfigurationError` naming every bad value. Nothing below it reads the environment:
/// the parts are handed to the libraries (`RuntimeConfiguration`, `MediaConfiguration`,
/// `WorkerConfiguration`, `APIConfiguration`, `ReaperConfiguration`) and to ``buildApplication(_:role:logger:metrics:onListening:)``.
/// Tests build one with ``init(dataDirectory:)`` and set fields.
public struct PulseConfiguration: Sendable {
    /// Data folder, database, storage (S3 settings included), scratch and public URL.
    public var runtime: RuntimeConfiguration
    /// ffmpeg/ffprobe, limits, encoding, timeouts, which plain-http inputs may be read.
    public var media: MediaConfiguration
    /// Video chunk length in seconds (`--chunk-seconds`, `PULSE_CHUNK_SECONDS`).
    public var chunkSeconds: Double
    /// Publish a first rendition while the ladder encodes (`PULSE_FIRST_RENDITION`, default on).
    public var firstRendition: Bool
    /// How workers take work (concurrency, lease, outage budget).
    public var worker: WorkerConfiguration
    /// Workers `serve` embeds (`--workers`, `PULSE_WORKERS`; 0 with `--no-worker`).
    public var embeddedWorkers: Int
    /// The HTTP side (`--host`, `--port`, `PULSE_API_KEY`, URLs, lifetimes, token secret).
    public var api: APIConfiguration
    /// What `serve`'s reaper deletes, and how often.
    public var reaper: ReaperConfiguration
    /// Signed webhooks: endpoints, secret, SSRF guard (`PULSE_WEBHOOK_*`).
    public var webhooks: WebhookConfiguration
    /// `PULSE_LOG_LEVEL`.
    public var logLevel: Logger.Level

    /// The pipeline's settings: `media`, `chunkSeconds` and the runtime's scratch folder.
    public var pipeline: PipelineConfiguration {
        var pipeline = PipelineConfiguration(media: media, workDirectory: runtime.workDirectory)
        pipeline.chunkSeconds = chunkSeconds
        pipeline.firstRendition = firstRendition
        return pipeline
    }

    /// Every documented default, with state under `dataDirectory`.
    public init(dataDirectory: String = RuntimeConfiguration.defaultDataDirectory) {
        self.runtime = RuntimeConfiguration(dataDirectory: dataDirectory)
        self.media = MediaConfiguration()
        self.chunkSeconds = PipelineConfiguration(workDirectory: "").chunkSeconds
        self.firstRendition = PipelineConfiguration(workDirectory: "").firstRendition
        self.worker = WorkerConfiguration()
        self.embeddedWorkers = 1
        self.api = APIConfiguration()
        self.reaper = ReaperConfiguration()
        self.webhooks = WebhookConfiguration()
        self.logLevel = .info
    }

    /// x264's presets, fastest first: the values `--preset` / `PULSE_X264_PRESET` accept.
    public static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]

    /// Reads every setting once: a flag given on the command line (keyed by its name, `--port`;
    /// a switch such as `--allow-http` as `"1"`), else its environment variable, else the default.
    /// An empty or blank value counts as not given. Throws one `ConfigurationError` listing every
    /// value that is not a number, out of range or inconsistent with another, each named by the
    /// flag or variable it came from (secrets are named, never shown).
    public init(flags: [String: String] = [:], environment: [String: String]) throws(ConfigurationError) {
        var read = SettingsReader(flags: flags, environment: environment)
        self.init(dataDirectory: read.text(flag: "--data", variable: "PULSE_DATA_DIR") ?? RuntimeConfiguration.defaultDataDirectory)

        // Where state lives.
        if let url = read.text(variable: "PULSE_DATABASE_URL") {
            do {
                _ = try DatabaseURL(url)
                runtime.databaseURL = url
            } catch {
                // The URL may hold a password: the reason only.
                read.problem("PULSE_DATABASE_URL", "is not a database URL: \((error as? DatabaseError)?.message ?? "\(error)")")
            }
        }
        var storageIsS3 = runtime.storageURL.hasPrefix("s3://")
        if let url = read.text(variable: "PULSE_STORAGE_URL") {
            do {
                if case .s3 = try StorageLocation(url: url) { storageIsS3 = true }
                runtime.storageURL = url
            } catch {
                read.problem("PULSE_STORAGE_URL", "is not a storage URL: \((error as? StorageError)?.message ?? "\(error)") (got \"\(url)\")")
            }
        }
        if let path = read.text(variable: "PULSE_WORK_DIR") { runtime.workDirectory = RuntimeConfiguration.absolute(path) }

        // S3: the usual AWS variables (an endpoint implies path-style addressing).
        let endpoint = read.text(variable: "AWS_ENDPOINT_URL_S3") ?? read.text(variable: "AWS_ENDPOINT_URL")
        var validEndpoint: String?
        if let endpoint {
            let name = read.given(flag: nil, variable: "AWS_ENDPOINT_URL_S3") != nil ? "AWS_ENDPOINT_URL_S3" : "AWS_ENDPOINT_URL"
            if Self.isHTTPURL(endpoint) { validEndpoint = endpoint } else {
                read.problem(name, "must start with http:// or https:// (got \"\(endpoint)\")")
            }
        }
        let keyID = read.text(variable: "AWS_ACCESS_KEY_ID")
        let secret = read.text(variable: "AWS_SECRET_ACCESS_KEY")
        if let keyID, let secret {
            runtime.s3 = S3Configuration(
                credentials: SigV4Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: read.text(variable: "AWS_SESSION_TOKEN")),
                region: read.text(variable: "AWS_REGION") ?? read.text(variable: "AWS_DEFAULT_REGION") ?? "us-east-1",
                endpoint: validEndpoint
            )
        } else if storageIsS3 {
            let missing = [keyID == nil ? "AWS_ACCESS_KEY_ID" : nil, secret == nil ? "AWS_SECRET_ACCESS_KEY" : nil].compactMap { $0 }
            read.problem(missing.joined(separator: " and "), "must be set for s3:// storage (PULSE_STORAGE_URL)")
        }

        // ffmpeg and the pipeline.
        if let path = read.text(flag: "--ffmpeg", variable: "PULSE_FFMPEG") { media.ffmpegPath = path }
        if let path = read.text(flag: "--ffprobe", variable: "PULSE_FFPROBE") { media.ffprobePath = path }
        // The S3 endpoint the operator configured may be plain http (MinIO, moto on a private
        // network): its presigned URLs are readable in every command, and only that host's.
        media.plainHTTP = PlainHTTPPolicy(
            allowAll: read.switchValue(flag: "--allow-http", variable: "PULSE_ALLOW_HTTP") ?? false,
            endpoints: validEndpoint.map { [$0] } ?? [])
        if let value = read.number(Double.self, flag: "--segment-seconds", variable: "PULSE_SEGMENT_SECONDS", "a positive number of seconds", { $0 > 0 }) {
            media.encoding.segmentSeconds = value
        }
        let minDuration = read.number(Double.self, flag: "--min-duration", variable: "PULSE_MIN_DURATION", "0 or more seconds", { $0 >= 0 })
        let maxDuration = read.number(Double.self, flag: "--max-duration", variable: "PULSE_MAX_DURATION", "a positive number of seconds", { $0 > 0 })
        if let minDuration { media.limits.minDurationSeconds = minDuration }
        if let maxDuration { media.limits.maxDurationSeconds = maxDuration }
        if minDuration != nil || maxDuration != nil, media.limits.minDurationSeconds >= media.limits.maxDurationSeconds {
            read.problem(
                read.name(flag: "--min-duration", variable: "PULSE_MIN_DURATION") + " / " + read.name(flag: "--max-duration", variable: "PULSE_MAX_DURATION"),
                "the minimum duration (\(media.limits.minDurationSeconds) s) must be below the maximum (\(media.limits.maxDurationSeconds) s)")
        }
        if let value = read.number(Int.self, flag: "--max-dimension", variable: "PULSE_MAX_DIMENSION", "a positive whole number of pixels", { $0 > 0 }) {
            media.limits.maxDimension = value
        }
        if let preset = read.text(flag: "--preset", variable: "PULSE_X264_PRESET") {
            if Self.x264Presets.contains(preset) { media.encoding.preset = preset } else {
                read.problem(read.name(flag: "--preset", variable: "PULSE_X264_PRESET"), "must be one of \(Self.x264Presets.joined(separator: ", ")) (got \"\(preset)\")")
            }
        }
        if let value = read.number(Int.self, flag: "--stall-timeout", variable: "PULSE_STALL_TIMEOUT", "a positive whole number of seconds", { $0 > 0 }) {
            media.stallTimeout = .seconds(value)
        }
        if let value = read.number(Int.self, flag: "--probe-timeout", variable: "PULSE_PROBE_TIMEOUT", "a positive whole number of seconds", { $0 > 0 }) {
            media.probeTimeout = .seconds(value)
        }
        if let value = read.number(Double.self, flag: "--chunk-seconds", variable: "PULSE_CHUNK_SECONDS", "a positive number of seconds", { $0 > 0 }) {
            chunkSeconds = value
        }
        if let value = read.switchValue(flag: nil, variable: "PULSE_FIRST_RENDITION") { firstRendition = value }

        // Workers.
        if let value = read.number(Int.self, flag: "--concurrency", variable: "PULSE_WORKER_CONCURRENCY", "a whole number from 1 to 64", { (1...64).contains($0) }) {
            worker.concurrency = value
        }
        let minimumLease = WorkerConfiguration.minimumLeaseSeconds
        if let value = read.number(Double.self, flag: "--lease-seconds", variable: "PULSE_JOB_LEASE_SECONDS", "\(Int(minimumLease)) to 3600 seconds", { $0 >= minimumLease && $0 <= 3600 }) {
            worker.leaseSeconds = value
        }
        if let value = read.number(Double.self, flag: "--outage-budget-seconds", variable: "PULSE_OUTAGE_BUDGET_SECONDS", "0 or more seconds", { $0 >= 0 }) {
            worker.outageBudgetSeconds = value
        }
        let workers = read.number(Int.self, flag: "--workers", variable: "PULSE_WORKERS", "0 or more", { $0 >= 0 })
        if let workers { embeddedWorkers = workers }
        if read.switchValue(flag: "--no-worker", variable: nil) == true {
            if let workers, workers > 0, read.given(flag: "--workers", variable: nil) != nil {
                read.problem("--no-worker", "contradicts --workers \(workers)")
            }
            embeddedWorkers = 0
        }

        // The HTTP API.
        if let host = read.text(flag: "--host", variable: nil) { api.host = host }
        if let port = read.number(Int.self, flag: "--port", variable: nil, "0 to 65535 (0 picks a free port)", { (0...65535).contains($0) }) { api.port = port }
        api.apiKey = read.text(variable: "PULSE_API_KEY")
        if let url = read.text(variable: "PULSE_PUBLIC_URL") {
            if Self.isHTTPURL(url) { api.publicURL = url } else { read.problem("PULSE_PUBLIC_URL", "must start with http:// or https:// (got \"\(url)\")") }
        }
        if let url = read.text(variable: "PULSE_PUBLIC_MEDIA_URL") {
            if Self.isHTTPURL(url) { api.publicMediaURL = url } else { read.problem("PULSE_PUBLIC_MEDIA_URL", "must start with http:// or https:// (got \"\(url)\")") }
        }
        // Storage URLs of the local store are built on the public URL: without PULSE_PUBLIC_URL,
        // the address `serve` listens on (the API itself builds them on the request's Host).
        if let publicURL = api.publicURL {
            runtime.publicURL = publicURL
        } else if api.port != 0 {
            let host = api.host == "0.0.0.0" ? "127.0.0.1" : api.host
            runtime.publicURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(api.port)"
        }
        if let value = read.number(Int64.self, flag: nil, variable: "PULSE_MAX_UPLOAD_BYTES", "a positive whole number of bytes", { $0 > 0 }) {
            api.maxUploadBytes = value
        }
        if let value = read.number(Int64.self, flag: nil, variable: "PULSE_UPLOAD_MIN_BYTES_PER_SECOND", "a positive whole number of bytes", { $0 > 0 }) {
            api.uploadMinimumBytesPerSecond = value
        }
        if let value = read.number(Int.self, flag: nil, variable: "PULSE_TOKEN_TTL_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            api.tokenLifetime = .seconds(value)
        }
        if let value = read.number(Int64.self, flag: nil, variable: "PULSE_UPLOAD_PART_BYTES", "a whole number of bytes from 5 MiB (5242880) to 5 GiB",
                                   { (MultipartLimits.minPartSize...MultipartLimits.maxPartSize).contains($0) }) {
            api.uploadPartBytes = value
        }
        if let value = read.number(Int.self, flag: nil, variable: "PULSE_UPLOAD_URL_TTL_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            api.uploadURLLifetime = .seconds(value)
        }
        if let value = read.number(
            Int.self, flag: nil, variable: "PULSE_PLAYBACK_TOKEN_TTL_SECONDS", "a whole number of seconds from 60 to 604800",
            { PlaybackTokenLifetime.range.contains($0) }) {
            api.playbackTokenLifetime = .seconds(value)
        }
        // Connections: how long one may idle or take to send a request head, and how many events
        // WebSockets may be open (per asset token, and in all).
        if let value = read.number(Int.self, flag: nil, variable: "PULSE_IDLE_TIMEOUT_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            api.idleTimeout = .seconds(value)
        }
        if let value = read.number(Int.self, flag: nil, variable: "PULSE_HEADER_TIMEOUT_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            api.headerTimeout = .seconds(value)
        }
        let perToken = read.number(Int.self, flag: nil, variable: "PULSE_MAX_WEBSOCKETS_PER_TOKEN", "a positive whole number", { $0 > 0 })
        let total = read.number(Int.self, flag: nil, variable: "PULSE_MAX_WEBSOCKETS", "a positive whole number", { $0 > 0 })
        if let perToken { api.maxEventSocketsPerToken = perToken }
        if let total { api.maxEventSockets = total }
        if perToken != nil || total != nil, api.maxEventSocketsPerToken > api.maxEventSockets {
            read.problem(
                "PULSE_MAX_WEBSOCKETS_PER_TOKEN",
                "must not exceed PULSE_MAX_WEBSOCKETS (\(api.maxEventSockets)) (got \(api.maxEventSocketsPerToken))")
        }
        if let secret = read.text(variable: "PULSE_TOKEN_SECRET") {
            if secret.utf8.count >= 32 { api.tokenSecret = Array(secret.utf8) } else {
                read.problem("PULSE_TOKEN_SECRET", "must be at least 32 bytes (got \(secret.utf8.count))")
            }
        }

        // The reaper (serve). An abandoned asset is one whose upload URL has expired: reaping
        // sooner would delete assets whose upload may still arrive.
        let reapRule = "a whole number of seconds, 0 or more (0 turns it off)"
        if let value = read.number(Int.self, flag: nil, variable: ReaperConfiguration.failedAfterVariable, reapRule, { $0 >= 0 }) {
            reaper.failedAfterSeconds = value
        }
        if let value = read.number(Int.self, flag: nil, variable: ReaperConfiguration.abandonedAfterVariable, reapRule, { $0 >= 0 }) {
            reaper.abandonedAfterSeconds = value
            let uploadURLSeconds = Int(api.uploadURLLifetime.components.seconds)
            if value > 0, value < uploadURLSeconds {
                read.problem(
                    ReaperConfiguration.abandonedAfterVariable,
                    "must be at least the upload URL lifetime (\(uploadURLSeconds) s, PULSE_UPLOAD_URL_TTL_SECONDS), or 0 (got \(value))")
            }
        }
        if let value = read.number(Int.self, flag: nil, variable: ReaperConfiguration.intervalVariable, "a positive whole number of seconds", { $0 > 0 }) {
            reaper.intervalSeconds = value
        }

        // Webhooks: URLs and secret go together; neither is ever quoted back (a URL's query may
        // carry a token).
        let webhookURLs = read.text(variable: "PULSE_WEBHOOK_URL")
        let webhookSecret = read.text(variable: "PULSE_WEBHOOK_SECRET")
        if let webhookURLs {
            do { webhooks.endpoints = try WebhookConfiguration.endpoints(webhookURLs) } catch { read.problem("PULSE_WEBHOOK_URL", "\(error)") }
            if webhookSecret == nil { read.problem("PULSE_WEBHOOK_SECRET", "must be set with PULSE_WEBHOOK_URL (whsec_ + base64 of 24 to 64 random bytes)") }
        }
        if let webhookSecret {
            do { webhooks.secret = try WebhookConfiguration.secret(webhookSecret) } catch { read.problem("PULSE_WEBHOOK_SECRET", "\(error)") }
        }
        webhooks.allowPrivateAddresses = read.switchValue(flag: nil, variable: "PULSE_WEBHOOK_ALLOW_PRIVATE") ?? false

        if let level = read.text(variable: "PULSE_LOG_LEVEL") {
            if let parsed = Logger.Level(rawValue: level) { logLevel = parsed } else {
                read.problem("PULSE_LOG_LEVEL", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(level)\")")
            }
        }

        if !read.problems.isEmpty { throw ConfigurationError(read.problems) }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")) && URLComponents(string: text)?.host?.isEmpty == false
    }
}

/// Looks settings up (flag, then variable) and collects what is wrong with them.
private struct SettingsReader {
    let flags: [String: String]
    let environment: [String: String]
    var problems: [String] = []

    /// The value given for a setting and the name that gave it: the flag if it was given, else
    /// the variable. Blank counts as not given.
    func given(flag: String?, variable: String?) -> (text: String, name: String)? {
        if let flag, let text = flags[flag]?.trimmingCharacters(in: .whitespaces), !text.isEmpty { return (text, flag) }
        if let variable, let text = environment[variable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty { return (text, variable) }
        return nil
    }

    /// The name to quote for a setting: the one that gave its value, else every name it has.
    func name(flag: String?, variable: String?) -> String {
        given(flag: flag, variable: variable)?.name ?? [flag, variable].compactMap { $0 }.joined(separator: " / ")
    }

    func text(flag: String? = nil, variable: String?) -> String? {
        given(flag: flag, variable: variable)?.text
    }

    mutating func problem(_ name: String, _ message: String) {
        problems.append("\(name) \(message)")
    }

    /// A number that satisfies `isValid`; nil when not given, or (recorded as a problem) when
    /// it is not a number of that kind or out of range.
    mutating func number<T: LosslessStringConvertible>(
        _ type: T.Type, flag: String?, variable: String?, _ requirement: String, _ isValid: (T) -> Bool
    ) -> T? {
        guard let (text, name) = given(flag: flag, variable: variable) else { return nil }
        guard let value = T(text), (value as? Double)?.isFinite ?? true, isValid(value) else {
            problem(name, "must be \(requirement) (got \"\(text)\")")
            return nil
        }
        return value
    }

    /// A switch: `1`, `true`, `yes` or `on` for on; `0`, `false`, `no` or `off` for off.
    mutating func switchValue(flag: String?, variable: String?) -> Bool? {
        guard let (text, name) = given(flag: flag, variable: variable) else { return nil }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problem(name, "must be 1 or 0 (got \"\(text)\")")
            return nil
        }
    }
}
