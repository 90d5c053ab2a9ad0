import AsyncHTTPClient
import Foundation
import PulseTestSupport
import Testing

/// Signed playback and `download.mp4` on the scale-out parts: `pulse-video serve` (one embedded
/// worker) on PostgreSQL and S3 (moto), with a video cut into four chunks, so the download is
/// joined from segments of several encodes fetched from S3 to scratch.
@Suite("Signed playback and download.mp4 on PostgreSQL and S3")
struct PlaybackS3Tests {
    @Test("a signed, chunked asset plays through its tokened playlist; its download.mp4 is whole", .enabled(if: EndToEndTests.enabled), .timeLimit(.minutes(4)))
    func signedChunkedDownload() async throws {
        try await ScaleOutPlace.with("playback") { place in
            let (scratch, apiKey, suffix) = (place.scratch, place.apiKey, place.suffix)
            let clip = try TestMedia.path("bigbuckbunny.mp4")  // 720p: a ladder beside the first rendition
            var environment = place.environment
            environment["PULSE_PLAYBACK_TOKEN_TTL_SECONDS"] = "600"

            let serve = try ChildProcess(EndToEndTests.binary, ["serve", "--port", "0", "--data", "\(scratch)/serve"], environment: environment, log: "\(scratch)/serve.log")
            defer { serve.stop() }
            do {
                let baseURL = try await serve.waitForLine(containing: "pulse-video listening on", timeout: .seconds(60))
                    .components(separatedBy: "listening on ").last!.trimmingCharacters(in: .whitespaces)
                let created = try await send(.POST, "\(baseURL)/v1/assets", bearer: apiKey, headers: [("Idempotency-Key", "s3-\(suffix)")], body: json([
                    "filename": "seven.mp4", "content_type": "video/mp4", "playback_policy": "signed", "mp4": true, "passthrough": "msg-s3",
                ]))
                try #require(created.status == 201, "\(created.text)")
                let id = try #require(created.json["id"] as? String)
                let upload = try #require((created.json["upload"] as? [String: Any])?["url"] as? String)
                #expect(try await send(.PUT, upload, headers: [("Content-Type", "video/mp4")], file: clip).status == 200)
                #expect(try await send(.POST, "\(baseURL)/v1/assets/\(id)/complete", bearer: apiKey).status == 202)

                let asset = try await waitForStatus("\(baseURL)/v1/assets/\(id)", bearer: apiKey, "ready", timeout: .seconds(150))
                #expect(asset["passthrough"] as? String == "msg-s3")
                let playlist = try #require(asset["playlist_url"] as? String)
                #expect(playlist.hasPrefix("\(baseURL)/media/\(id)/t/"), "signed assets go through /media/ even on S3: \(playlist)")
                let thumbnail = try #require(asset["thumbnail_url"] as? String)
                #expect(thumbnail.hasPrefix("\(baseURL)/media/\(id)/t/"), "not a presigned S3 URL that would bypass the policy: \(thumbnail)")
                #expect(try await send(.GET, thumbnail).status == 200)

                // ffmpeg resolves every relative URI from the tokened master playlist and decodes it all.
                let decode = try ChildProcess.run("ffmpeg", ["-v", "error", "-nostdin", "-i", playlist, "-f", "null", "-"])
                #expect(decode.status == 0, "ffmpeg: \(decode.output)")
                let plain = try await send(.GET, "\(baseURL)/media/\(id)/master.m3u8")
                #expect(plain.status == 403 && plain.errorCode == "ERR_PLAYBACK_TOKEN_REQUIRED")

                // download.mp4, joined from four chunks' segments fetched from S3: whole and playable.
                let download = try #require(asset["download_url"] as? String)
                let file = "\(scratch)/download.mp4"
                let mp4 = try await send(.GET, download)
                #expect(mp4.status == 200)
                try mp4.body.write(to: URL(fileURLWithPath: file))
                let probe = try ChildProcess.run("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "csv=p=0", file])
                let lines = probe.output.split(separator: "\n").map(String.init)
                #expect(lines.contains("h264") && lines.contains("aac"), "\(probe.output)")
                let duration = lines.compactMap(Double.init).first ?? 0
                let expected = try #require(asset["duration"] as? Double)
                #expect(abs(duration - expected) < 0.5, "download.mp4 lasts \(duration) s, the asset \(expected) s")
                let decodeMP4 = try ChildProcess.run("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-f", "null", "-"])
                #expect(decodeMP4.status == 0 && decodeMP4.output.isEmpty, "ffmpeg: \(decodeMP4.output)")
                let log = try String(contentsOfFile: serve.logPath, encoding: .utf8)
                #expect(log.components(separatedBy: "chunk done").count - 1 >= 4, "the video was not cut into chunks")
                #expect(!log.contains(String(playlist.split(separator: "/").dropLast().last ?? "none")), "a playback token is in the log")
            } catch {
                print("----- serve log\n" + ((try? String(contentsOfFile: serve.logPath, encoding: .utf8))?.suffix(3000) ?? ""))
                throw error
            }
            serve.stop()
        }
    }
}
