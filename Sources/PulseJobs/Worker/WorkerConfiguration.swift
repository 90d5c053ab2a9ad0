import Foundation

/// How a worker takes work. Documented defaults; filled from flags and environment.
public struct WorkerConfiguration: Sendable {
    /// Jobs run at once by this process (ffmpeg already uses every core: 1 suits most machines).
    public var concurrency: Int = 1
    /// Lease length (`PULSE_JOB_LEASE_SECONDS`); a heartbeat renews it every third of it.
    public var leaseSeconds: Double = 60
    /// How often an idle worker looks for work.
    public var pollInterval: Duration = .milliseconds(250)
    /// Exit once the queue is empty: nothing queued (now or later) and nothing running (`--drain`).
    public var drain: Bool = false
    /// Unique name of this worker in leases.
    public var workerID: String = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"

    public init() {}
}
