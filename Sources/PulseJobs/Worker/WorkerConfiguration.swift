import Foundation

/// How a worker takes work. Documented defaults; filled from flags and environment.
public struct WorkerConfiguration: Sendable {
    /// Jobs run at once by this process. ffmpeg already uses every core; two lets the first
    /// rendition of one asset run beside the rest of a ladder (which runs under `nice`).
    public var concurrency: Int = 2
    /// Lease length (`PULSE_JOB_LEASE_SECONDS`); a heartbeat renews it every third of it.
    public var leaseSeconds: Double = 60
    /// How long a job waits out a storage or database outage before its retries count against
    /// its attempts again (`PULSE_OUTAGE_BUDGET_SECONDS`, default 30 min).
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

    /// Throws one message naming every value out of range.
    public func validate() throws(ConfigurationError) {
        var problems: [String] = []
        if !(1...64).contains(concurrency) { problems.append("concurrency must be 1 to 64 (got \(concurrency))") }
        if !(leaseSeconds >= Self.minimumLeaseSeconds && leaseSeconds <= 3600) {
            problems.append("lease must be \(Int(Self.minimumLeaseSeconds)) to 3600 seconds (got \(leaseSeconds))")
        }
        if !(outageBudgetSeconds >= 0 && outageBudgetSeconds.isFinite) { problems.append("outage budget must be 0 or more seconds (got \(outageBudgetSeconds))") }
        if !problems.isEmpty { throw ConfigurationError(problems) }
    }
}

/// Settings that cannot work, each named with its value.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String { "invalid configuration: " + problems.joined(separator: "; ") }
}
