import Foundation
import PulseDatabase
@testable import PulseJobs
import PulseMedia
import PulseStorage
import PulseSupport
import Testing

/// Which failures fail the asset at once, which are retried against the job's attempts, and which
/// are outages waited out without using attempts up.
@Suite struct FailureClassificationTests {
    @Test func inputErrorsArePermanent() {
        for code in [FailureCode.nonVideo, .malformedVideo, .durationExceedConstraint, .sourceNotFound, .inputNotAllowed] {
            guard case .permanent(let got, _) = JobFailure.classify(MediaError(code, "x")) else {
                Issue.record("\(code) is not permanent")
                continue
            }
            #expect(got == code)
        }
    }

    @Test func outagesAreWaitedOut() {
        let cases: [any Error] = [
            MediaError(.storageUnavailable, "refused"),
            StorageError(.unreachable, "connection refused"),
            StorageError(.serverError, "503 SlowDown"),
            DatabaseError(.unavailable, message: "connection dropped"),
            DatabaseError(.busy, message: "locked"),
        ]
        for error in cases {
            guard case .outage = JobFailure.classify(error) else {
                Issue.record("\(error) is not an outage: \(JobFailure.classify(error))")
                continue
            }
        }
    }

    @Test func otherFailuresCountAgainstTheAttempts() {
        let cases: [any Error] = [
            MediaError(.encoderFailed, "killed"), MediaError(.stalled, "silent"), MediaError(.toolTimeout, "slow"),
            StorageError(.accessDenied, "denied"), DatabaseError(.queryFailed, message: "bug"), CancellationError(),
        ]
        for error in cases {
            guard case .transient = JobFailure.classify(error) else {
                Issue.record("\(error) is not transient: \(JobFailure.classify(error))")
                continue
            }
        }
    }

    @Test func theOneTranslationOfErrorsIntoCodes() {
        func code(_ error: any Error) -> FailureCode { FailureTranslator.translate(error).code }
        // Storage out of reach or answering 5xx: unavailable, for the jobs and the API alike.
        #expect(code(StorageError(.unreachable, "connection refused")) == .storageUnavailable)
        #expect(code(StorageError(.serverError, "503 SlowDown")) == .storageUnavailable)
        #expect(code(StorageError(.notFound, "no such key")) == .notFound)
        #expect(code(StorageError(.invalidKey, "..")) == .notFound)
        #expect(code(StorageError(.accessDenied, "denied")) == .storage)
        #expect(code(DatabaseError(.unavailable, message: "dropped")) == .databaseUnavailable)
        #expect(code(DatabaseError(.queryFailed, message: "bug")) == .processing)
        #expect(code(MediaError(.nonVideo, "text")) == .nonVideo)
        let fault = FailureTranslator.translate(InternalFault("unknown job kind x"))
        #expect(fault.code == .internalFault && fault.message == "unknown job kind x")
        #expect(code(CancellationError()) == .processing)
    }

    @Test func internalFaultsCountAgainstTheAttempts() {
        #expect(JobFailure.classify(InternalFault("the plan has no unit video-9")) == .transient(code: .internalFault, message: "the plan has no unit video-9"))
    }

    /// What is recorded never carries a presigned URL's signature.
    @Test func recordedMessagesAreRedacted() {
        let error = StorageError(.unreachable, "GET https://b.example/k?X-Amz-Signature=topsecret failed")
        #expect(!JobFailure.classify(error).message.contains("topsecret"))
    }
}
