import Foundation
import PulseDatabase
@testable import PulseJobs
import PulseMedia
import PulseStorage
import PulseSupport
import PulseTestSupport
import Testing

/// The pipeline's own inconsistencies are internal faults (`ERR_INTERNAL_FAULT`): retried within
/// the job's attempts, and never recorded as a problem of the uploaded file.
@Suite struct InternalFaultTests {
    /// Runs `kind` for a fresh asset (created, no plan yet) through the processor and returns
    /// what the worker would record.
    func failure(of kind: JobKind, chunkIndex: Int? = nil, engine: Engine) async throws -> JobFailure {
        try await withTestPlace(engine) { place in
            try await withTestFolder("pulse-fault") { work in
                let asset = try await place.lifecycle.create(filename: "clip.mp4")
                try await place.queue.enqueue(assetID: asset.id, kind: kind, chunkIndex: chunkIndex)
                let job = try #require(try await place.queue.claim(workerID: "test", leaseSeconds: 60).job)
                let processor = AssetProcessor(
                    assets: place.assets, queue: place.queue, store: place.store, bus: place.bus,
                    configuration: PipelineConfiguration(media: MediaConfiguration(), workDirectory: work), logger: TestServices.logger)
                let error = await #expect(throws: InternalFault.self) { try await processor.process(job) }
                return JobFailure.classify(try #require(error))
            }
        }
    }

    @Test("a job of a kind the pipeline does not know is an internal fault", arguments: Engine.all)
    func unknownKind(engine: Engine) async throws {
        let failure = try await failure(of: "mystery", engine: engine)
        #expect(failure == .transient(code: .internalFault, message: "unknown job kind mystery"))
    }

    @Test("a unit's job before its asset has a plan is an internal fault", arguments: Engine.all)
    func noPlanYet(engine: Engine) async throws {
        let failure = try await failure(of: .chunk, chunkIndex: 0, engine: engine)
        #expect(failure.code == .internalFault && failure.message.hasSuffix("has no plan yet"))
    }

    @Test("an internal fault is retried within the job's attempts and shows the generic sentence")
    func retryClass() {
        #expect(FailureCode.internalFault.rawValue == "ERR_INTERNAL_FAULT")
        #expect(FailureCode.internalFault.retry == .counted)
        #expect(FailureCode.internalFault.publicMessage(recorded: "unknown job kind mystery") == FailureCode.genericPublicMessage)
    }
}
