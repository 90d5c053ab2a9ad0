import AsyncHTTPClient
import Foundation
import PulseJobs
import PulseTestSupport
import Testing

/// The scale-out shape on real parts: `pulse-video serve --no-worker` and two `pulse-video worker`
/// processes sharing PostgreSQL and an S3 server (moto). Needs the built binary,
/// `PULSE_TEST_POSTGRES_URL` and `PULSE_TEST_S3_ENDPOINT` (skipped without them unless
/// `PULSE_REQUIRE_SERVICES=1`).
@Suite("End to end: serve + two workers on PostgreSQL and S3")
struct EndToEndTests {
    static let binary = "\(TestServices.packageRoot)/.build/debug/pulse-video"
    static let enabled = TestServices.required
        || (TestServices.postgresURL != nil && TestServices.s3Endpoint != nil && FileManager.default.isExecutableFile(atPath: binary))

    @Test("upload through the presigned URL, events across processes, playlist decoded by ffmpeg", .enabled(if: enabled), .timeLimit(.minutes(4)))
    func scaleOut() async throws {
        try await ScaleOutPlace.with("e2e") { place in
            let (s3, bucket, scratch, apiKey) = (place.s3, place.bucket, place.scratch, place.apiKey)
            let clip = try TestMedia.path("bigbuckbunny.mp4")  // 720p: a ladder of four rungs
            var environment = place.environment
            environment["PULSE_LOG_LEVEL"] = "info"

            let serve = try ChildProcess(Self.binary, ["serve", "--no-worker", "--port", "0", "--data", "\(scratch)/serve"], environment: environment, log: "\(scratch)/serve.log")
            defer { serve.stop() }
            let baseURL = try await serve.waitForLine(containing: "pulse-video listening on", timeout: .seconds(60))
                .components(separatedBy: "listening on ").last!.trimmingCharacters(in: .whitespaces)
            // The server migrated the schema before listening: the workers find it ready.
            let workers = try (1...2).map { index in
                try ChildProcess(Self.binary, ["worker", "--data", "\(scratch)/worker\(index)"], environment: environment, log: "\(scratch)/worker\(index).log")
            }
            defer { workers.forEach { $0.stop() } }
            for worker in workers { _ = try await worker.waitForLine(containing: "worker started", timeout: .seconds(60)) }

            do {
                // Create, then PUT straight to S3 through the presigned URL.
                let created = try await send(.POST, "\(baseURL)/v1/assets", bearer: apiKey, body: json(["filename": "seven.mp4", "content_type": "video/mp4"]))
                try #require(created.status == 201, "\(created.text)")
                let id = try #require(created.json["id"] as? String)
                let token = try #require(created.json["token"] as? String)
                let upload = try #require(created.json["upload"] as? [String: Any])
                let uploadURL = try #require(upload["url"] as? String)
                #expect(uploadURL.hasPrefix("\(s3)/\(bucket)/media/uploads/\(id)/seven.mp4?"), "a presigned S3 URL: \(uploadURL)")
                #expect(uploadURL.contains("X-Amz-Signature="))
                let put = try await send(.PUT, uploadURL, headers: [("Content-Type", "video/mp4")], file: clip)
                #expect(put.status == 200)

                // Events from the workers' processes reach this process's WebSocket.
                let log = EventLog()
                let ws = "ws" + baseURL.dropFirst("http".count) + "/v1/assets/\(id)/events?token=\(token)"
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try await withTimeout(.seconds(180), "events") { try await followEvents(ws, into: log) } }
                    try await waitUntil("the snapshot") { !log.texts.isEmpty }
                    let complete = try await send(.POST, "\(baseURL)/v1/assets/\(id)/complete", bearer: token)
                    #expect(complete.status == 202, "\(complete.text)")
                    try await group.waitForAll()
                }
                #expect(log.types.first == "snapshot")
                #expect(log.types.last == "ready", "\(log.types)")
                #expect(log.types.contains("thumbnail_ready"))
                let percents = log.events.filter { $0["type"] as? String == "progress" }.compactMap { $0["percent"] as? Double }
                #expect(percents == percents.sorted() && Set(percents).count == percents.count, "never back: \(percents)")

                // The video was cut into 2 s chunks, encoded by the worker processes (usually both).
                let chunksDone = try workers.map { try String(contentsOfFile: $0.logPath, encoding: .utf8).components(separatedBy: "chunk done").count - 1 }
                #expect(chunksDone.reduce(0, +) >= 4, "chunks per worker: \(chunksDone)")
                print("chunks per worker: \(chunksDone); progress: \(percents)")

                // The playlist (served from S3 through /media/), fetched and decoded by ffmpeg over HTTP.
                let asset = try await send(.GET, "\(baseURL)/v1/assets/\(id)", bearer: apiKey).json
                #expect(asset["status"] as? String == "ready")
                let playlist = try #require(asset["playlist_url"] as? String)
                #expect(playlist == "\(baseURL)/media/\(id)/master.m3u8")
                let master = try await send(.GET, playlist)
                #expect(master.status == 200 && master.text.hasPrefix("#EXTM3U"), "\(master.status) \(master.text)")
                let decode = try ChildProcess.run("ffmpeg", ["-v", "error", "-nostdin", "-i", playlist, "-f", "null", "-"])
                #expect(decode.status == 0, "ffmpeg: \(decode.output)")
                // The thumbnail: a presigned GET straight from S3.
                let thumbnailURL = try #require(asset["thumbnail_url"] as? String)
                #expect(thumbnailURL.hasPrefix("\(s3)/\(bucket)/media/processed/\(id)/thumbnail.jpg?") && thumbnailURL.contains("X-Amz-Signature="))
                let thumbnail = try await send(.GET, thumbnailURL)
                #expect(thumbnail.status == 200 && thumbnail.body.starts(with: [0xFF, 0xD8]))
            } catch {
                for path in [serve.logPath] + workers.map(\.logPath) {
                    print("----- \(path)\n" + ((try? String(contentsOfFile: path, encoding: .utf8))?.suffix(3000) ?? ""))
                }
                throw error
            }

            serve.stop()
            workers.forEach { $0.stop() }
            #expect(serve.exitStatus == 0, "serve ends cleanly on SIGTERM")
        }
    }
}

/// A child process with its output in a log file, stopped with SIGTERM (then SIGKILL after 10 s).
final class ChildProcess: Sendable {
    let logPath: String
    private let process: Process

    init(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws {
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        self.logPath = log
    }

    /// The first log line containing `text`, waiting at most `timeout`.
    func waitForLine(containing text: String, timeout: Duration) async throws -> String {
        let name = process.executableURL?.lastPathComponent ?? "?"
        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        return try await waitFor("a line with '\(text)' from \(name)", timeout: timeout, interval: .milliseconds(50), context: { String(log.suffix(2000)) }) {
            if let line = log.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            try #require(process.isRunning, "\(name) exited before it wrote a line with '\(text)': \(log.suffix(2000))")
            return nil
        }
    }

    /// SIGTERM, up to 10 s for a graceful exit, then SIGKILL. Idempotent.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        // A bounded wait on the exit, polled synchronously: `stop` runs in `defer`, which cannot await.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    var exitStatus: Int32 { process.isRunning ? -1 : process.terminationStatus }

    /// Runs a command to completion; its combined output and exit status.
    static func run(_ command: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
