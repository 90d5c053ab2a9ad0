import ArgumentParser
import PulseJobs

/// How workers run, for `worker` and for the workers embedded in `serve`; each flag has an
/// environment variable. Values are taken as text and checked by `PulseConfiguration`: a value
/// that is not a number, or out of range, stops start-up with a message naming it (with every
/// other bad value): a typo must not silently become the default.
struct WorkerOptions: ParsableArguments {
    @Option(help: "Jobs a worker runs at once, \(WorkerConfiguration.concurrencyRange.lowerBound) to \(WorkerConfiguration.concurrencyRange.upperBound) (env PULSE_WORKER_CONCURRENCY, default \(defaults.worker.concurrency)).")
    var concurrency: String?
    @Option(help: "Video chunk length in seconds, one job each (env PULSE_CHUNK_SECONDS, default \(shown(defaults.pipeline.chunkSeconds))).")
    var chunkSeconds: String?
    @Option(help: "Job lease in seconds, \(shown(WorkerConfiguration.leaseRange.lowerBound)) to \(shown(WorkerConfiguration.leaseRange.upperBound)) (env PULSE_JOB_LEASE_SECONDS, default \(shown(defaults.worker.leaseSeconds))).")
    var leaseSeconds: String?
    @Option(help: "Seconds a job waits out a storage outage before its retries count (env PULSE_OUTAGE_BUDGET_SECONDS, default \(shown(defaults.worker.outageBudgetSeconds))).")
    var outageBudgetSeconds: String?

    /// The flags given, for `readConfiguration`.
    var flags: [String: String] {
        [
            "--concurrency": concurrency, "--chunk-seconds": chunkSeconds,
            "--lease-seconds": leaseSeconds, "--outage-budget-seconds": outageBudgetSeconds,
        ].compactMapValues { $0 }
    }
}
