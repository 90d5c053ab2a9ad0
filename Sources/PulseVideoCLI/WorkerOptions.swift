import ArgumentParser

/// How workers run, for `worker` and for the workers embedded in `serve`; each flag has an
/// environment variable. Values are taken as text and checked by `PulseConfiguration`: a value
/// that is not a number, or out of range, stops start-up with a message naming it (with every
/// other bad value): a typo must not silently become the default.
struct WorkerOptions: ParsableArguments {
    @Option(help: "Jobs a worker runs at once, 1 to 64 (env PULSE_WORKER_CONCURRENCY, default 1).")
    var concurrency: String?
    @Option(help: "Video chunk length in seconds, one job each (env PULSE_CHUNK_SECONDS, default 60).")
    var chunkSeconds: String?
    @Option(help: "Job lease in seconds, 3 to 3600 (env PULSE_JOB_LEASE_SECONDS, default 60).")
    var leaseSeconds: String?
    @Option(help: "Seconds a job waits out a storage outage before its retries count (env PULSE_OUTAGE_BUDGET_SECONDS, default 1800).")
    var outageBudgetSeconds: String?

    /// The flags given, for `readConfiguration`.
    var flags: [String: String] {
        [
            "--concurrency": concurrency, "--chunk-seconds": chunkSeconds,
            "--lease-seconds": leaseSeconds, "--outage-budget-seconds": outageBudgetSeconds,
        ].compactMapValues { $0 }
    }
}
