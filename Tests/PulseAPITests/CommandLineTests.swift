import Foundation
import PulseJobs
import PulseService
import PulseTestSupport
import Testing

/// The built `pulse-video` as a script or a person uses it: version, help, `status`, JSON logs
/// and a progress reader that goes away. Needs the built binary (`swift build`).
@Suite("Command line: what it prints")
struct CommandLineTests {
    static let enabled = StartupRefusalTests.enabled

    @Test("--version prints the version", .enabled(if: enabled))
    func version() async throws {
        let scratch = try Scratch()
        let (status, output) = try await StartupRefusalTests.run(["--version"], environment: ProcessInfo.processInfo.environment, in: scratch)
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == PulseVersion.current)
    }

    @Test("help states the defaults the settings types use", .enabled(if: enabled))
    func helpDefaults() async throws {
        let scratch = try Scratch()
        let (_, output) = try await StartupRefusalTests.run(["worker", "--help"], environment: ProcessInfo.processInfo.environment, in: scratch)
        let help = output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("PULSE_WORKER_CONCURRENCY, default \(WorkerConfiguration().concurrency))"), "\(help)")
        #expect(help.contains("PULSE_STARTUP_TIMEOUT, default \(PulseConfiguration.defaultStartupTimeout.components.seconds))"), "\(help)")
    }

    @Test("status prints the asset as the API renders it; JSON logs spell ids in lower case", .enabled(if: enabled), .timeLimit(.minutes(2)))
    func statusAndJSONLogs() async throws {
        let scratch = try Scratch()
        var environment = ProcessInfo.processInfo.environment
        environment["PULSE_LOG_FORMAT"] = "json"
        environment["PULSE_LOG_LEVEL"] = "info"
        environment["PULSE_DATA_DIR"] = scratch.path + "/data"
        let clip = try TestMedia.path("long_7s_320p.mp4")
        let (uploaded, uploadLog) = try await StartupRefusalTests.run(["upload", clip, "uploads/clip.mp4"], environment: environment, in: scratch)
        try #require(uploaded == 0, "\(uploadLog)")
        let (submitted, submitOutput) = try await StartupRefusalTests.run(["submit", "uploads/clip.mp4"], environment: environment, in: scratch)
        try #require(submitted == 0, "\(submitOutput)")
        let id = try #require(submitOutput.split(separator: "\n").last.map(String.init))
        #expect(UUID(uuidString: id) != nil && id == id.lowercased(), "\(id)")

        let (drained, workerLog) = try await StartupRefusalTests.run(["worker", "--drain"], environment: environment, in: scratch)
        #expect(drained == 0, "\(workerLog)")
        let records = try workerLog.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        #expect(!records.isEmpty)
        for record in records {
            #expect(record["level"] is String && record["label"] is String && record["message"] is String && record["metadata"] is [String: Any])
        }
        let assetIDs = records.compactMap { ($0["metadata"] as? [String: Any])?["asset.id"] as? String }
        #expect(!assetIDs.isEmpty && assetIDs.allSatisfy { $0 == id }, "\(assetIDs)")

        let (shown, statusOutput) = try await StartupRefusalTests.run(["status", id], environment: environment, in: scratch)
        #expect(shown == 0, "\(statusOutput)")
        let line = try #require(statusOutput.split(separator: "\n").first { $0.hasPrefix("{\"created_at\"") }, "\(statusOutput)")
        let asset = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(asset["id"] as? String == id)
        #expect(asset["status"] as? String == "ready")
        #expect(asset["playback_policy"] as? String == "public")
        #expect((asset["playlist_url"] as? String)?.hasSuffix("/master.m3u8") == true, "\(line)")
        #expect(asset["source_key"] == nil, "the database row is not what status prints")
    }

    @Test("transcode --progress json | head -1 ends quietly and leaves no partial output", .enabled(if: enabled), .timeLimit(.minutes(2)))
    func closedProgressReader() async throws {
        let scratch = try Scratch()
        let clip = try TestMedia.path("bigbuckbunny.mp4")
        let script = "\(StartupRefusalTests.binary) transcode \(clip) --out \(scratch.path)/out --progress json | head -1; echo \"status=${PIPESTATUS[0]}\""
        let run = try ChildProcess.run("bash", ["-c", script])
        #expect(run.output.contains("\"stage\""), "\(run.output)")
        #expect(run.output.contains("status=141"), "\(run.output)")
        #expect(!run.output.contains("Fatal error") && !run.output.contains("Broken pipe"), "\(run.output)")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(left.isEmpty, "left behind: \(left)")
    }
}
