import ArgumentParser
import Foundation
import PulseJobs

/// How workers run, for `worker` and for the workers embedded in `serve`; each flag has an
/// environment variable. A value that is not a number, or out of range, stops start-up with a
/// message naming it: a typo must not silently become the default.
struct WorkerOptions: ParsableArguments {
    @Option(help: "Jobs a worker runs at once (env PULSE_WORKER_CONCURRENCY, default 1).")
    var concurrency: Int?
    @Option(help: "Video chunk length in seconds, one job each (env PULSE_CHUNK_SECONDS, default 60).")
    var chunkSeconds: Double?
    @Option(help: "Job lease in seconds, at least 3 (env PULSE_JOB_LEASE_SECONDS, default 60).")
    var leaseSeconds: Double?
    @Option(help: "Seconds a job waits out a storage outage before its retries count (env PULSE_OUTAGE_BUDGET_SECONDS, default 1800).")
    var outageBudgetSeconds: Double?

    func workerConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        if let value = try concurrency ?? environment.number(Int.self, "PULSE_WORKER_CONCURRENCY") { configuration.concurrency = value }
        if let value = try leaseSeconds ?? environment.number(Double.self, "PULSE_JOB_LEASE_SECONDS") { configuration.leaseSeconds = value }
        if let value = try outageBudgetSeconds ?? environment.number(Double.self, "PULSE_OUTAGE_BUDGET_SECONDS") {
            configuration.outageBudgetSeconds = value
        }
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return configuration
    }

    func pipeline(media: MediaOptions, runtime: RuntimeConfiguration) throws -> PipelineConfiguration {
        var pipeline = PipelineConfiguration(media: try media.mediaConfiguration(), workDirectory: runtime.workDirectory)
        if let value = try chunkSeconds ?? runtime.environment.number(Double.self, "PULSE_CHUNK_SECONDS") {
            guard value > 0, value.isFinite else { throw ValidationError("PULSE_CHUNK_SECONDS / --chunk-seconds must be positive (got \(value))") }
            pipeline.chunkSeconds = value
        }
        return pipeline
    }
}

extension [String: String] {
    /// The variable as a number; nil when unset or empty, an error naming it when it is not one.
    func number<T: LosslessStringConvertible>(_ type: T.Type, _ name: String) throws -> T? {
        guard let text = self[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let value = T(text) else { throw ValidationError("\(name) must be a number (got \"\(text)\")") }
        return value
    }
}
