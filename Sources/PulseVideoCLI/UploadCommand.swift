import ArgumentParser
import Foundation
import PulseJobs
import PulseService
import PulseStorage

/// `pulse-video upload FILE KEY`: puts a local file into the configured storage (streamed; multipart
/// on S3 above 16 MiB), e.g. before `pulse-video submit KEY`. Prints bytes, seconds and MB/s.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upload", abstract: "Upload a local file to the configured storage.")
    @Argument(help: "Local file.")
    var file: String
    @Argument(help: "Object key, e.g. uploads/clip.mp4.")
    var key: String
    @OptionGroup var runtime: RuntimeOptions

    func run() async throws {
        let configuration = try readConfiguration(runtime.flags)
        try configuration.runtime.makeDirectories()
        let store = try makeObjectStore(
            url: configuration.runtime.storageURL, s3: configuration.runtime.s3, logger: makeLogger("pulse.upload", configuration))
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
        let started = ContinuousClock.now
        try await store.put(fileAt: file, key: key, contentType: nil, mode: .copy)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "uploaded %lld bytes in %.2f s (%.1f MB/s)", size, seconds, Double(size) / 1e6 / max(seconds, 1e-9)))
    }
}
