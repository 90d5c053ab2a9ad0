import Foundation
public import Logging
import Metrics
public import PulseDatabase
public import PulseStorage
import PulseSupport
public import ServiceLifecycle
import Synchronization

/// Claims jobs and runs them, with the delivery of a Celery worker with `acks_late` and
/// `reject_on_worker_lost`: a job is acknowledged only when done; a dead worker's lease expires
/// and the job is delivered again. On SIGTERM (graceful shutdown) it stops taking work, stops
/// ffmpeg and releases its leases so another worker resumes at once.
public struct Worker: Service {
    let queue: JobQueue
    let assets: AssetRepository
    /// Fails assets (`failAsset`), with the webhook and event that go with it.
    let lifecycle: AssetLifecycle
    let store: any ObjectStore
    let bus: any EventBus
    let pipeline: PipelineConfiguration
    let configuration: WorkerConfiguration
    let logger: Logger

    public init(
        database: any Database,
        store: any ObjectStore,
        bus: any EventBus,
        pipeline: PipelineConfiguration,
        configuration: WorkerConfiguration = WorkerConfiguration(),
        queue: JobQueue? = nil,
        logger: Logger
    ) {
        self.queue = queue ?? JobQueue(database: database)
        self.assets = AssetRepository(database: database, clock: self.queue.clock)
        self.store = store
        self.bus = bus
        self.pipeline = pipeline
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        self.logger = logger
        self.lifecycle = AssetLifecycle(assets: self.assets, queue: self.queue, store: store, bus: bus, logger: logger)
    }

    public func run() async throws {
        try configuration.validate()
        try FileManager.default.createDirectory(atPath: pipeline.workDirectory, withIntermediateDirectories: true)
        let stale = WorkDirectories.removeStale(root: pipeline.workDirectory)
        if stale > 0 { logger.info("removed stale work folders", metadata: ["count": "\(stale)"]) }
        let scratch = try WorkDirectories.create(root: pipeline.workDirectory)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var pipeline = self.pipeline
        pipeline.workDirectory = scratch
        // What a finalize finishes after `ready` when shut down, it finishes while its lease holds:
        // it is renewed every third of it, so at least two thirds are left.
        let processor = AssetProcessor(
            assets: assets, queue: queue, store: store, bus: bus, configuration: pipeline, logger: logger,
            readyGrace: .seconds(configuration.leaseSeconds / 2))

        logger.info("worker started", metadata: ["worker.concurrency": "\(configuration.concurrency)"])
        // Graceful shutdown cancels the loop; that is how a worker is meant to stop, not an error.
        do {
            try await cancelWhenGracefulShutdown { try await self.loop(processor) }
        } catch is CancellationError {}
        logger.info("worker stopped")
    }

    private func loop(_ processor: AssetProcessor) async throws {
        let running = RunningCount()
        try await withThrowingDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if running.value >= configuration.concurrency {
                    await WorkSignal.shared.wait(upTo: configuration.pollInterval)
                    continue
                }
                let job: Job?
                do {
                    job = try await claim()
                } catch is CancellationError {
                    break
                } catch {
                    logger.warning("claim failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                if let job {
                    running.add(1)
                    group.addTask {
                        defer {
                            running.add(-1)
                            // A slot is free, and the job may have queued the next ones.
                            WorkSignal.shared.signal()
                        }
                        await self.execute(job, processor)
                    }
                    continue
                }
                // Draining ends when the queue is empty, not merely when nothing is ready: a job
                // running elsewhere may still queue more (a prepare queues the chunks), and a retry
                // waiting for its backoff is still work.
                if configuration.drain, running.value == 0, (try? await queue.pendingCount()) == 0 { break }
                await WorkSignal.shared.wait(upTo: configuration.pollInterval)
            }
        }
    }

    private func claim() async throws -> Job? {
        let claim = try await queue.claim(workerID: configuration.workerID, leaseSeconds: configuration.leaseSeconds)
        for dead in claim.exhausted {
            // Its worker died on every attempt (a source that kills ffmpeg or the machine).
            await failAsset(dead.assetID, code: .workerLost, message: "processing was interrupted on every attempt")
        }
        return claim.job
    }

    private func execute(_ job: Job, _ processor: AssetProcessor) async {
        var logger = logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "asset.id"] = "\(job.assetID)"
        logger[metadataKey: "job.kind"] = "\(job.kind)"
        logger[metadataKey: "job.attempt"] = "\(job.attempts)"
        let started = ContinuousClock.now
        do {
            if let error = await self.perform(job, processor) { throw error }
            // Even when shutting down: a job that ended well is acknowledged, not given back.
            let queue = self.queue
            _ = try await Task { try await queue.complete(job) }.value
            Metrics.Timer(label: "pulse_job_seconds", dimensions: [("kind", job.kind.rawValue)]).record(duration: ContinuousClock.now - started)
            logger.debug("job done")
        } catch {
            await handleFailure(job, error, logger: logger)
        }
    }

    /// Runs the job beside its heartbeat; returns what stopped it, nil when it is done. A lost
    /// lease stops the job at once; a shutdown (its heartbeat cancelled) leaves it to the job how
    /// it ends: given back when cancelled, or finished when it was past the point where it no
    /// longer stops (a finalize past `ready`).
    private func perform(_ job: Job, _ processor: AssetProcessor) async -> (any Error)? {
        enum Ending: Sendable {
            case job((any Error)?)
            case heartbeat(any Error)
        }
        return await withTaskGroup(of: Ending.self) { group in
            group.addTask {
                do { try await processor.process(job) } catch { return .job(error) }
                return .job(nil)
            }
            group.addTask {
                do { try await self.keepLease(job) } catch { return .heartbeat(error) }
                return .heartbeat(LeaseLost())
            }
            defer { group.cancelAll() }
            while let ending = await group.next() {
                switch ending {
                case .job(let error): return error
                case .heartbeat(let error) where error is CancellationError: continue
                case .heartbeat(let error): return error
                }
            }
            return CancellationError()
        }
    }

    /// Renews the lease every third of its length; throws `LeaseLost` if someone else has it.
    /// A heartbeat that fails or hangs (a database blip) is tried again (`RetryPolicy.heartbeat`):
    /// one error must not kill a healthy encode. Unrenewed for two thirds of the lease, the worker gives the
    /// job up itself, before the lease expires and another worker may claim it: never two at once.
    private func keepLease(_ job: Job) async throws {
        let lease = Duration.seconds(configuration.leaseSeconds)
        let retry = RetryPolicy.heartbeat
        var renewed = ContinuousClock.now
        var failures = 0
        while true {
            try await Task.sleep(for: failures == 0 ? lease / 3 : retry.wait(afterAttempt: failures))
            do {
                let queue = self.queue
                let seconds = configuration.leaseSeconds
                let held = try await withDeadline(lease / 3, orThrow: HeartbeatTimeout()) { try await queue.heartbeat(job, leaseSeconds: seconds) }
                if !held { throw LeaseLost() }
                renewed = .now
                failures = 0
            } catch let error where !(error is LeaseLost || error is CancellationError) {
                if ContinuousClock.now - renewed >= lease * 2 / 3 {
                    logger.warning("lease not renewed for two thirds of it; giving the job up", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
                    throw LeaseLost()
                }
                logger.warning("heartbeat failed; retrying within the lease", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
                failures += 1
            }
        }
    }

    private func handleFailure(_ job: Job, _ error: any Error, logger: Logger) async {
        if error is LeaseLost {
            logger.warning("lease lost; another worker has the job")
            return
        }
        if Task.isCancelled {
            // Shutting down: give the job back now rather than when the lease runs out.
            let queue = self.queue
            let released = try? await Task { try await queue.release(job) }.value
            logger.info(released == true ? "job released for another worker" : "job not released (lease lost or database down); its lease will expire")
            return
        }
        let failure = JobFailure.classify(error)
        logger.warning("job failed", metadata: ["error.code": "\(failure.code)", "error.message": "\(failure.message)"])
        let recorded = "\(failure.code): \(failure.message)"
        switch failure {
        case .permanent(let code, let message):
            // Only the lease holder may fail the asset: a worker whose job was taken over says nothing.
            guard await persist("fail the job", logger: logger, { try await queue.fail(job, error: recorded) }) == true else { return }
            await failAsset(job.assetID, code: code, message: message)
        case .transient(let code, let message):
            let outcome = await persist("retry the job", logger: logger) { try await queue.retry(job, error: recorded) }
            if outcome == .exhausted { await failAsset(job.assetID, code: code, message: message) }
        case .outage(let code, let message):
            let budget = configuration.outageBudgetSeconds
            let outcome = await persist("retry the job after an outage", logger: logger) {
                try await queue.retryAfterOutage(job, error: recorded, budget: budget)
            }
            if outcome == .exhausted { await failAsset(job.assetID, code: code, message: message) }
        }
    }

    /// Runs a queue write, trying again (`RetryPolicy.queueWrite`) for as long as the lease would
    /// last: a database that blinks must not leave a job running until its lease expires. Logs what could not be done
    /// (the lease expiring then hands the job to another worker).
    private func persist<T: Sendable>(_ what: String, logger: Logger, _ write: @escaping @Sendable () async throws -> T) async -> T? {
        let retry = RetryPolicy.queueWrite
        let deadline = ContinuousClock.now + .seconds(configuration.leaseSeconds)
        var attempt = 1
        while true {
            do {
                return try await write()
            } catch {
                let wait = retry.wait(afterAttempt: attempt)
                guard ContinuousClock.now + wait < deadline else {
                    logger.error("could not \(what); the lease will expire and the job run again", metadata: ["error": "\(error)"])
                    return nil
                }
                logger.warning("could not \(what); retrying", metadata: ["error": "\(error)"])
                try? await retry.sleep(wait)
                attempt += 1
            }
        }
    }

    private func failAsset(_ id: UUID, code: FailureCode, message: String) async {
        do {
            guard try await lifecycle.fail(id, code: code, message: message) else { return }
            Counter(label: "pulse_assets_total", dimensions: [("outcome", "failed")]).increment()
        } catch {
            logger.error("could not record the failure", metadata: ["asset.id": "\(id)", "error": "\(error)"])
        }
    }
}

/// Jobs in flight in this worker.
final class RunningCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add(_ delta: Int) { count.withLock { $0 += delta } }
}
