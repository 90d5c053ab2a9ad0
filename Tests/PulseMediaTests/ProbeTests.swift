import Foundation
import PulseMedia
import PulseTestSupport
import Testing

@Suite("Probe")
struct ProbeTests {
    func probe(_ path: String, _ configuration: MediaConfiguration = testConfiguration()) async throws -> ProbeResult {
        try await Prober(configuration: configuration, logger: TestServices.logger).probe(.file(path))
    }

    @Test func landscapeWithAudio() async throws {
        let result = try await probe(TestMedia.path("landscape_1080p30_audio.mp4"))
        #expect(result.video.displayWidth == 1920 && result.video.displayHeight == 1080)
        #expect(result.video.codec == "h264" && result.video.bitDepth == 8 && result.video.rotation == 0)
        #expect(abs(result.video.frameRate - 30) < 0.01)
        #expect(result.audio?.codec == "aac" && result.audio?.channels == 2)
        #expect(abs(result.duration - 3) < 0.1)
    }

    @Test func rotationIsHonoured() async throws {
        let result = try await probe(TestMedia.path("portrait_rotated.mp4"))
        #expect(result.video.codedWidth == 640 && result.video.codedHeight == 360)
        #expect(result.video.displayWidth == 360 && result.video.displayHeight == 640)
        #expect(result.video.rotation == 90 || result.video.rotation == 270)
    }

    @Test func tenBitHEVCAndVP9AndSurround() async throws {
        let hevc = try await probe(TestMedia.path("hevc_10bit.mp4"))
        #expect(hevc.video.codec == "hevc" && hevc.video.bitDepth == 10)
        let vp9 = try await probe(TestMedia.path("vp9.webm"))
        #expect(vp9.video.codec == "vp9" && vp9.video.bitRate != nil)
        let surround = try await probe(TestMedia.path("surround_5_1.mp4"))
        #expect(surround.audio?.channels == 6)
        let hdr = try await probe(TestMedia.path("hdr_pq.mp4"))
        #expect(hdr.video.isHDR)
    }

    @Test func realFootageWithMoovAtTheEnd() async throws {
        let bunny = try await probe(TestMedia.path("bigbuckbunny.mp4"))
        #expect(bunny.video.displayWidth == 1280 && bunny.audio?.channels == 6)
        let bikes = try await probe(TestMedia.path("bikes.mp4"))
        #expect(bikes.audio == nil && bikes.video.displayWidth == 640)
    }

    @Test(arguments: [
        ("not_video.mp4", MediaError.Code.nonVideo),
        ("playlist_as.mp4", .nonVideo),
        ("truncated.mp4", .malformedVideo),
        ("audio_only.m4a", .noVideoStream),
    ])
    func badInputsGetTheirCode(file: String, code: MediaError.Code) async throws {
        let path = try TestMedia.path(file)
        await #expect(throws: MediaError.self) { _ = try await probe(path) }
        do { _ = try await probe(path) } catch let error as MediaError { #expect(error.code == code, "\(file): \(error)") }
    }

    @Test func limitsAreEnforced() async throws {
        let path = try TestMedia.path("landscape_1080p30_audio.mp4")
        var configuration = testConfiguration()
        configuration.limits.minDurationSeconds = 5
        await expectCode(.durationTooShort) { _ = try await probe(path, configuration) }
        configuration = testConfiguration()
        configuration.limits.maxDurationSeconds = 1
        await expectCode(.durationExceedConstraint) { _ = try await probe(path, configuration) }
        configuration = testConfiguration()
        configuration.limits.maxDimension = 1280
        await expectCode(.resolutionExceedConstraint) { _ = try await probe(path, configuration) }
    }

    @Test func missingAndUnreachableInputsHaveTheirOwnCodes() async throws {
        // Missing is permanent; a server that refuses the connection is an outage (retried).
        await expectCode(.sourceNotFound) { _ = try await probe("/nonexistent/video.mp4") }
        #expect(MediaError(.sourceNotFound, "").isPermanent && !MediaError(.storageUnavailable, "").isPermanent)
        var configuration = testConfiguration()
        configuration.plainHTTP = PlainHTTPPolicy(allowAll: true)
        // Nothing listens on port 9 of loopback: connection refused. The signature must not leak.
        let input = try MediaInput.url("http://127.0.0.1:9/bucket/v.mp4?X-Amz-Signature=topsecret", plainHTTP: configuration.plainHTTP)
        let prober = Prober(configuration: configuration, logger: TestServices.logger)
        let error = await mediaError { _ = try await prober.probe(input) }
        #expect(error?.code == .storageUnavailable)
        #expect(error?.isOutage == true)
        #expect(error?.message.contains("topsecret") == false)
    }

    /// Plain http is refused unless allowed for every host or for the configured S3 endpoint,
    /// and then for that origin alone.
    @Test func plainHTTPOnlyForTheConfiguredEndpoint() throws {
        let none = PlainHTTPPolicy()
        #expect(throws: MediaError.self) { _ = try MediaInput.url("http://example.com/x.mp4", plainHTTP: none) }
        let endpoint = PlainHTTPPolicy(endpoints: ["http://127.0.0.1:5055"])
        let input = try MediaInput.url("http://127.0.0.1:5055/bucket/v.mp4?X-Amz-Signature=s", plainHTTP: endpoint)
        #expect(input.protocolWhitelist == "http,tcp")
        for other in ["http://127.0.0.1:5056/bucket/v.mp4", "http://example.com/bucket/v.mp4", "http://127.0.0.1/v.mp4"] {
            let error = #expect(throws: MediaError.self) { _ = try MediaInput.url(other, plainHTTP: endpoint) }
            #expect(error?.code == .inputNotAllowed)
        }
        #expect(PlainHTTPPolicy(endpoints: ["https://s3.example.com"]).origins.isEmpty, "an https endpoint opens no plain http")
        #expect(PlainHTTPPolicy(endpoints: ["http://minio.local"]).allows("http://MINIO.local:80/b/k"))
        #expect(PlainHTTPPolicy(allowAll: true).allows("http://anything.example/x"))
    }
}

func expectCode(_ code: MediaError.Code, _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as MediaError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// The MediaError `body` throws, or nil.
func mediaError(_ body: () async throws -> Void) async -> MediaError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? MediaError
    }
}
