import Foundation
public import PulseSupport

/// How a worker takes work. Documented defaults; read by ``init(reading:)``.
public struct WorkerConfiguration: Sendable {
    /// Jobs run at once by this process (`--concurrency`, `PULSE_WORKER_CONCURRENCY`). ffmpeg
    /// already uses every core; two lets the first rendition of one asset run beside the rest of a
    /// ladder (which runs under `nice`).
    public var concurrency: Int = 2
    /// Lease length (`--lease-seconds`, `PULSE_JOB_LEASE_SECONDS`); a heartbeat renews it every
    /// third of it.
    public var leaseSeconds: Double = 60
    /// How long a job waits out a storage or database outage before its retries count against
    /// its attempts again (`--outage-budget-seconds`, `PULSE_OUTAGE_BUDGET_SECONDS`, default 30 min).
    public var outageBudgetSeconds: Double = 1800
    /// How often an idle worker looks for work.
    public var pollInterval: Duration = .milliseconds(250)
    /// Exit once the queue is empty: nothing queued (now or later) and nothing running (`--drain`).
    public var drain: Bool = false
    /// Unique name of this worker in leases.
    public var workerID: String = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"

    public init() {}

    /// The shortest lease: the heartbeat renews it every third, and a lease shorter than this
    /// would keep a worker busy renewing (0 s turns the loop hot).
    public static let minimumLeaseSeconds: Double = 3
    /// Jobs a worker may run at once.
    public static let concurrencyRange = 1...64
    /// Lease lengths accepted, in seconds.
    public static let leaseRange = minimumLeaseSeconds...3600

    /// Reads the worker's flags and variables over the defaults; bad values are recorded in
    /// `settings`.
    public init(reading settings: inout SettingsReader) {
        let (concurrencyRange, leaseRange) = (Self.concurrencyRange, Self.leaseRange)
        if let value = settings.number(
            Int.self, flag: "--concurrency", variable: "PULSE_WORKER_CONCURRENCY",
            "a whole number from \(concurrencyRange.lowerBound) to \(concurrencyRange.upperBound)", { concurrencyRange.contains($0) }) {
            concurrency = value
        }
        if let value = settings.number(
            Double.self, flag: "--lease-seconds", variable: "PULSE_JOB_LEASE_SECONDS",
            "\(Int(leaseRange.lowerBound)) to \(Int(leaseRange.upperBound)) seconds", { leaseRange.contains($0) }) {
            leaseSeconds = value
        }
        if let value = settings.number(Double.self, flag: "--outage-budget-seconds", variable: "PULSE_OUTAGE_BUDGET_SECONDS", "0 or more seconds", { $0 >= 0 }) {
            outageBudgetSeconds = value
        }
    }

    /// Throws one message naming every value out of range (for configurations built in code).
    public func validate() throws(ConfigurationError) {
        var problems: [String] = []
        if !Self.concurrencyRange.contains(concurrency) {
            problems.append("concurrency must be \(Self.concurrencyRange.lowerBound) to \(Self.concurrencyRange.upperBound) (got \(concurrency))")
        }
        if !Self.leaseRange.contains(leaseSeconds) {
            problems.append("lease must be \(Int(Self.leaseRange.lowerBound)) to \(Int(Self.leaseRange.upperBound)) seconds (got \(leaseSeconds))")
        }
        if !(outageBudgetSeconds >= 0 && outageBudgetSeconds.isFinite) { problems.append("outage budget must be 0 or more seconds (got \(outageBudgetSeconds))") }
        if !problems.isEmpty { throw ConfigurationError(problems) }
    }
}
