import Foundation
import Hummingbird
@testable import PulseAPI
@testable import PulseJobs
import PulseStorage
import PulseSupport
import Testing

/// The one set of failure codes (`FailureCode.table`): what the page knows, how each is retried,
/// what clients are told, and that the strings clients match on stay as they are.
@Suite("Failure codes")
struct FailureCodeTests {
    /// Codes answered over HTTP for which the page still shows the server's own message (it has no
    /// sentence for them yet). Each must be missing from app.js: once a sentence is added there,
    /// this test asks for the code to be taken off this list.
    static let awaitingPageSentence: Set<String> = [
        "ERR_NOT_FOUND", "ERR_CONFLICT", "ERR_METHOD_NOT_ALLOWED", "ERR_UPGRADE_REQUIRED",
        "ERR_RANGE_NOT_SATISFIABLE",
        // Answered to a product's backend (create options, idempotency) or to a player, never to the page.
        "ERR_INVALID_PASSTHROUGH", "ERR_INVALID_IDEMPOTENCY_KEY", "ERR_IDEMPOTENCY_KEY_REUSED", "ERR_PLAYBACK_TOKEN_REQUIRED",
        // Answered to tus clients, never to the page.
        "ERR_TUS_VERSION", "ERR_UNSUPPORTED_MEDIA_TYPE",
    ]

    /// The keys of the `MESSAGES` object in Sources/PulseAPI/Page/app.js.
    static func pageMessageKeys() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("Sources/PulseAPI/Page/app.js"), encoding: .utf8)
        let start = try #require(script.range(of: "const MESSAGES = {"))
        let end = try #require(script.range(of: "\n};", range: start.upperBound..<script.endIndex))
        var keys = Set<String>()
        for line in script[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " })
            guard trimmed.hasPrefix("ERR_"), let colon = trimmed.firstIndex(of: ":") else { continue }
            keys.insert(String(trimmed[..<colon]))
        }
        return keys
    }

    @Test("the page has a sentence for every code in the table")
    func pageKnowsEveryCode() throws {
        let keys = try Self.pageMessageKeys()
        #expect(keys.count >= 25, "MESSAGES was not read from app.js: \(keys)")
        for code in FailureCode.all where !Self.awaitingPageSentence.contains(code.rawValue) {
            #expect(keys.contains(code.rawValue), "app.js MESSAGES has no sentence for \(code)")
        }
        for raw in Self.awaitingPageSentence {
            #expect(FailureCode.all.contains(FailureCode(raw)), "\(raw) is not a code any more")
            #expect(!keys.contains(raw), "app.js now has a sentence for \(raw): take it off awaitingPageSentence")
        }
    }

    @Test("retry classes are the README's: input errors never, two outages, the rest of the job failures counted")
    func retryClasses() {
        func codes(_ retry: FailureCode.Retry) -> Set<String> {
            Set(FailureCode.table.filter { $0.retry == retry }.map(\.code.rawValue))
        }
        // Input errors: fail the asset at once.
        #expect(codes(.never) == [
            "ERR_NON_VIDEO", "ERR_NO_VIDEO_STREAM", "ERR_MALFORMED_VIDEO", "ERR_DURATION_TOO_SHORT",
            "ERR_DURATION_EXCEED_CONSTRAINT", "ERR_RESOLUTION_EXCEED_CONSTRAINT", "ERR_SOURCE_NOT_FOUND",
            "ERR_INPUT_NOT_ALLOWED", "ERR_UPLOAD_TOO_LARGE", "ERR_SOURCE_CHANGED",
        ])
        // Outages: waited out without using attempts.
        #expect(codes(.outage) == ["ERR_STORAGE_UNAVAILABLE", "ERR_DATABASE_UNAVAILABLE"])
        // Every other failure of a job uses one of its attempts.
        #expect(codes(.counted) == [
            "ERR_TOOL_TIMEOUT", "ERR_ENCODER_STALLED", "ERR_ENCODER_FAILED", "ERR_OUTPUT_MISSING",
            "ERR_TOOL_MISSING", "ERR_WORKER_LOST", "ERR_STORAGE", "ERR_PROCESSING", "ERR_INTERNAL_FAULT",
        ])
        // What is not a job failure: HTTP answers and the end of a deleted asset's events.
        #expect(codes(.notApplicable) == [
            "ERR_ASSET_DELETED", "ERR_UNAUTHORIZED", "ERR_TOKEN_EXPIRED", "ERR_FORBIDDEN", "ERR_INVALID_SIGNATURE",
            "ERR_URL_EXPIRED", "ERR_NOT_FOUND", "ERR_UPLOAD_NOT_FOUND", "ERR_INVALID_JSON", "ERR_INVALID_REQUEST",
            "ERR_CONFLICT", "ERR_METHOD_NOT_ALLOWED", "ERR_UPGRADE_REQUIRED", "ERR_RANGE_NOT_SATISFIABLE",
            "ERR_UNAVAILABLE", "ERR_TOO_MANY_CONNECTIONS", "ERR_INTERNAL",
            "ERR_INVALID_PASSTHROUGH", "ERR_INVALID_IDEMPOTENCY_KEY", "ERR_IDEMPOTENCY_KEY_REUSED", "ERR_PLAYBACK_TOKEN_REQUIRED",
            "ERR_PART_MISSING", "ERR_PART_INVALID", "ERR_PART_ETAG_MISMATCH", "ERR_UPLOAD_EXPIRED",
            "ERR_TUS_VERSION", "ERR_UNSUPPORTED_MEDIA_TYPE",
        ])
        #expect(Set(FailureCode.all.map(\.rawValue)).count == FailureCode.table.count, "a code is in the table twice")
    }

    @Test("a recorded failure shows the worker's message only for codes written for people")
    func publicMessages() {
        let shownAsRecorded: Set<String> = [
            "ERR_NON_VIDEO", "ERR_NO_VIDEO_STREAM", "ERR_MALFORMED_VIDEO", "ERR_DURATION_TOO_SHORT",
            "ERR_DURATION_EXCEED_CONSTRAINT", "ERR_RESOLUTION_EXCEED_CONSTRAINT", "ERR_UPLOAD_TOO_LARGE",
            "ERR_ASSET_DELETED", "ERR_WORKER_LOST", "ERR_SOURCE_NOT_FOUND",
        ]
        #expect(Set(FailureCode.table.filter { $0.publicMessage == nil }.map(\.code.rawValue)) == shownAsRecorded)
        let internalDetail = "GET https://bucket.s3/x?X-Amz-Signature=abc: connection refused"
        for code in FailureCode.all where !shownAsRecorded.contains(code.rawValue) {
            let detail = AssetResource.ErrorDetail(recordedCode: code, message: internalDetail)
            #expect(detail.code == code.rawValue && detail.message != internalDetail, "\(code)")
        }
        func message(_ code: String?, _ recorded: String?) -> String {
            AssetResource.ErrorDetail(recordedCode: code.map(FailureCode.init), message: recorded).message
        }
        #expect(message("ERR_DURATION_EXCEED_CONSTRAINT", "the video is 5 hours long; the limit is 4") == "the video is 5 hours long; the limit is 4")
        #expect(message("ERR_NON_VIDEO", "") == "processing failed")
        #expect(message("ERR_NON_VIDEO", nil) == "processing failed")
        #expect(message("ERR_INPUT_NOT_ALLOWED", internalDetail) == "the upload could not be read from storage")
        for code in ["ERR_STORAGE", "ERR_STORAGE_UNAVAILABLE", "ERR_DATABASE_UNAVAILABLE"] {
            #expect(message(code, internalDetail) == "storage failed while processing; try again later")
        }
        #expect(message("ERR_TOOL_TIMEOUT", internalDetail) == "reading the video took too long")
        #expect(message("ERR_ENCODER_STALLED", internalDetail) == "encoding stopped making progress")
        #expect(message("ERR_ENCODER_FAILED", internalDetail) == "processing failed")
        #expect(message("ERR_SOMETHING_NEW", internalDetail) == "processing failed")
        let missing = AssetResource.ErrorDetail(recordedCode: nil, message: internalDetail)
        #expect(missing.code == "ERR_INTERNAL" && missing.message == "processing failed")
    }

    @Test("HTTP errors keep their codes and statuses")
    func httpStatuses() {
        let expected: [(APIError.Code, String, Int)] = [
            (.unauthorized, "ERR_UNAUTHORIZED", 401), (.tokenExpired, "ERR_TOKEN_EXPIRED", 401),
            (.forbidden, "ERR_FORBIDDEN", 403), (.invalidSignature, "ERR_INVALID_SIGNATURE", 403),
            (.urlExpired, "ERR_URL_EXPIRED", 403), (.notFound, "ERR_NOT_FOUND", 404),
            (.uploadNotFound, "ERR_UPLOAD_NOT_FOUND", 404), (.invalidJSON, "ERR_INVALID_JSON", 400),
            (.invalidRequest, "ERR_INVALID_REQUEST", 400), (.uploadTooLarge, "ERR_UPLOAD_TOO_LARGE", 413),
            (.conflict, "ERR_CONFLICT", 409), (.methodNotAllowed, "ERR_METHOD_NOT_ALLOWED", 405),
            (.upgradeRequired, "ERR_UPGRADE_REQUIRED", 426), (.rangeNotSatisfiable, "ERR_RANGE_NOT_SATISFIABLE", 416),
            (.unavailable, "ERR_UNAVAILABLE", 503), (.tooManyConnections, "ERR_TOO_MANY_CONNECTIONS", 429),
            (.internalError, "ERR_INTERNAL", 500),
            (.invalidPassthrough, "ERR_INVALID_PASSTHROUGH", 400), (.invalidIdempotencyKey, "ERR_INVALID_IDEMPOTENCY_KEY", 400),
            (.idempotencyKeyReused, "ERR_IDEMPOTENCY_KEY_REUSED", 409), (.playbackTokenRequired, "ERR_PLAYBACK_TOKEN_REQUIRED", 403),
            (.partMissing, "ERR_PART_MISSING", 409), (.partInvalid, "ERR_PART_INVALID", 400),
            (.partETagMismatch, "ERR_PART_ETAG_MISMATCH", 400), (.uploadExpired, "ERR_UPLOAD_EXPIRED", 410),
            (.storageUnavailable, "ERR_STORAGE_UNAVAILABLE", 503),
            (.tusVersion, "ERR_TUS_VERSION", 412), (.unsupportedMediaType, "ERR_UNSUPPORTED_MEDIA_TYPE", 415),
        ]
        for (code, raw, status) in expected {
            #expect(code.rawValue == raw)
            #expect(APIError(code, "m").status.code == status, "\(raw)")
        }
        #expect(Set(FailureCode.table.compactMap { $0.httpStatus == nil ? nil : $0.code.rawValue }) == Set(expected.map(\.1)))
    }

    @Test("the API answers errors with the jobs' translation: storage out of reach or 5xx is 503")
    func apiTranslation() {
        func answer(_ error: any Error) -> APIError { ErrorMiddleware<BasicRequestContext>.translate(error) }
        for error in [StorageError(.serverError, "500 InternalError"), StorageError(.unreachable, "connection refused")] {
            let api = answer(error)
            #expect(api.code == .storageUnavailable && api.status.code == 503, "\(error)")
            #expect(!api.message.contains("InternalError") && !api.message.contains("refused"))
        }
        #expect(answer(StorageError(.notFound, "no such key")).status.code == 404)
        #expect(answer(StorageError(.accessDenied, "denied")).code == .internalError)
        #expect(answer(InternalFault("unknown job kind x")).code == .internalError)
        #expect(answer(HTTPError(.methodNotAllowed)).code == .methodNotAllowed)
    }

    @Test("an asset lifecycle refusal is answered with its code and status, and its message as written")
    func lifecycleRefusals() {
        let expected: [AssetLifecycleError.Code: (String, Int)] = [
            .uploadNotFound: ("ERR_UPLOAD_NOT_FOUND", 404), .uploadTooLarge: ("ERR_UPLOAD_TOO_LARGE", 413),
            .partMissing: ("ERR_PART_MISSING", 409), .partInvalid: ("ERR_PART_INVALID", 400),
            .partETagMismatch: ("ERR_PART_ETAG_MISMATCH", 400), .idempotencyKeyReused: ("ERR_IDEMPOTENCY_KEY_REUSED", 409),
            .idempotentAssetDeleted: ("ERR_NOT_FOUND", 404), .noUploadKey: ("ERR_INTERNAL", 500),
        ]
        #expect(Set(expected.keys) == Set(AssetLifecycleError.Code.allCases))
        for (code, (raw, status)) in expected {
            let answer = ErrorMiddleware<BasicRequestContext>.translate(AssetLifecycleError(code, "the client's sentence"))
            #expect(answer.code.rawValue == raw && answer.status.code == status && answer.message == "the client's sentence", "\(code)")
        }
        #expect(AssetRoutes.tooLarge(1000).message == "uploads are limited to 1000 bytes")
    }

    @Test("the pipeline's and the jobs' codes keep their strings")
    func rawStrings() {
        let expected: [(FailureCode, String)] = [
            (.nonVideo, "ERR_NON_VIDEO"), (.noVideoStream, "ERR_NO_VIDEO_STREAM"), (.malformedVideo, "ERR_MALFORMED_VIDEO"),
            (.durationTooShort, "ERR_DURATION_TOO_SHORT"), (.durationExceedConstraint, "ERR_DURATION_EXCEED_CONSTRAINT"),
            (.resolutionExceedConstraint, "ERR_RESOLUTION_EXCEED_CONSTRAINT"), (.sourceNotFound, "ERR_SOURCE_NOT_FOUND"),
            (.inputNotAllowed, "ERR_INPUT_NOT_ALLOWED"), (.storageUnavailable, "ERR_STORAGE_UNAVAILABLE"),
            (.toolTimeout, "ERR_TOOL_TIMEOUT"), (.stalled, "ERR_ENCODER_STALLED"), (.encoderFailed, "ERR_ENCODER_FAILED"),
            (.outputMissing, "ERR_OUTPUT_MISSING"), (.toolMissing, "ERR_TOOL_MISSING"), (.workerLost, "ERR_WORKER_LOST"),
            (.storage, "ERR_STORAGE"), (.databaseUnavailable, "ERR_DATABASE_UNAVAILABLE"), (.processing, "ERR_PROCESSING"),
            (.assetDeleted, "ERR_ASSET_DELETED"), (.internalFault, "ERR_INTERNAL_FAULT"),
        ]
        for (code, raw) in expected {
            #expect(code.rawValue == raw && "\(code)" == raw)
            #expect(code.meaning != nil, "\(raw) is not in the table")
        }
    }

    @Test("a code is coded as its plain string")
    func codable() throws {
        let data = try JSONEncoder().encode(["code": FailureCode.nonVideo])
        #expect(String(decoding: data, as: UTF8.self) == #"{"code":"ERR_NON_VIDEO"}"#)
        let decoded = try JSONDecoder().decode([String: FailureCode].self, from: data)
        #expect(decoded["code"] == .nonVideo && decoded["code"]?.retry == .never)
    }
}
