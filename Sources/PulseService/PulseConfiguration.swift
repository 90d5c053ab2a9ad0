public import Logging
public import PulseAPI
public import PulseJobs
import PulseMedia
import PulseStorage
public import PulseSupport

/// Every setting of a Pulse process, typed and validated: where state lives, ffmpeg and the
/// pipeline, workers, the HTTP API, the reaper, webhooks and logging.
///
/// ``init(flags:environment:)`` reads it once at start-up (flags win over environment variables,
/// which win over the documented defaults; README's Configuration and docs/API.md list them): each
/// component's settings struct reads its own through one `SettingsReader`, and one
/// `ConfigurationError` names every bad value. Nothing below it reads the environment: the parts
/// are handed to the libraries and to ``buildApplication(_:role:logger:metrics:onListening:)``.
/// Tests build one with ``init(dataDirectory:)`` and set fields.
public struct PulseConfiguration: Sendable {
    /// Data folder, database, storage (S3 settings included) and public URL.
    public var runtime: RuntimeConfiguration
    /// The pipeline: ffmpeg/ffprobe, limits and encoding (`media`), chunk length, the first
    /// rendition, scratch space.
    public var pipeline: PipelineConfiguration
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
    /// `PULSE_LOG_FORMAT`: `text` (default) or `json`.
    public var logFormat: LogFormat
    /// How long a starting process waits for its database before it gives up and exits naming it
    /// (`--startup-timeout`, `PULSE_STARTUP_TIMEOUT`, seconds).
    public var startupTimeout: Duration

    /// `startupTimeout`'s default, 30 s.
    public static let defaultStartupTimeout: Duration = .seconds(30)
    /// `embeddedWorkers`' default, 1.
    public static let defaultEmbeddedWorkers = 1

    /// Every documented default, with state under `dataDirectory`.
    public init(dataDirectory: String = RuntimeConfiguration.defaultDataDirectory) {
        self.runtime = RuntimeConfiguration(dataDirectory: dataDirectory)
        self.pipeline = PipelineConfiguration(dataDirectory: runtime.dataDirectory)
        self.worker = WorkerConfiguration()
        self.embeddedWorkers = Self.defaultEmbeddedWorkers
        self.api = APIConfiguration()
        self.reaper = ReaperConfiguration()
        self.webhooks = WebhookConfiguration()
        self.logLevel = .info
        self.logFormat = .text
        self.startupTimeout = Self.defaultStartupTimeout
    }

    /// Reads every setting once: a flag given on the command line (keyed by its name, `--port`;
    /// a switch such as `--allow-http` as `"1"`), else its environment variable, else the default.
    /// An empty or blank value counts as not given. Throws one `ConfigurationError` listing every
    /// value that is not a number, out of range or inconsistent with another, each named by the
    /// flag or variable it came from (secrets are named, never shown).
    public init(flags: [String: String] = [:], environment: [String: String]) throws(ConfigurationError) {
        var settings = SettingsReader(flags: flags, environment: environment)
        let s3 = S3Configuration.read(&settings)
        runtime = RuntimeConfiguration(reading: &settings, s3: s3.configuration)
        // The S3 endpoint the operator configured may be plain http: its presigned URLs are
        // readable in every command, and only that host's.
        let media = MediaConfiguration(reading: &settings, plainHTTPEndpoints: s3.endpoint.map { [$0] } ?? [])
        pipeline = PipelineConfiguration(reading: &settings, media: media, dataDirectory: runtime.dataDirectory)
        worker = WorkerConfiguration(reading: &settings)
        embeddedWorkers = Self.embeddedWorkers(reading: &settings)
        api = APIConfiguration(reading: &settings)
        // Storage URLs of the local store are built on the public URL: without PULSE_PUBLIC_URL,
        // the address `serve` listens on (the API itself builds them on the request's Host).
        if let publicURL = api.publicURL ?? api.listeningURL { runtime.publicURL = publicURL }
        reaper = ReaperConfiguration(reading: &settings, uploadURLLifetime: api.uploadURLLifetime)
        webhooks = WebhookConfiguration(reading: &settings)
        logLevel = .info
        if let level = settings.text(variable: "PULSE_LOG_LEVEL") {
            if let parsed = Logger.Level(rawValue: level) { logLevel = parsed } else {
                settings.problem("PULSE_LOG_LEVEL", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(level)\")")
            }
        }
        logFormat = .text
        if let format = settings.text(variable: "PULSE_LOG_FORMAT") {
            if let parsed = LogFormat(rawValue: format) { logFormat = parsed } else {
                settings.problem("PULSE_LOG_FORMAT", "must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(format)\")")
            }
        }
        startupTimeout = Self.defaultStartupTimeout
        if let seconds = settings.number(
            Double.self, flag: "--startup-timeout", variable: "PULSE_STARTUP_TIMEOUT", "seconds, 1 to 3600", { (1...3600).contains($0) }) {
            startupTimeout = .milliseconds(Int64(seconds * 1000))
        }
        try settings.finish()
    }

    /// `--workers` / `PULSE_WORKERS`, default 1; `--no-worker` makes it 0 (and contradicts a
    /// positive `--workers`).
    static func embeddedWorkers(reading settings: inout SettingsReader) -> Int {
        let workers = settings.number(Int.self, flag: "--workers", variable: "PULSE_WORKERS", "0 or more", { $0 >= 0 })
        guard settings.switchValue(flag: "--no-worker", variable: nil) == true else { return workers ?? defaultEmbeddedWorkers }
        if let workers, workers > 0, settings.given(flag: "--workers", variable: nil) != nil {
            settings.problem("--no-worker", "contradicts --workers \(workers)")
        }
        return 0
    }
}
