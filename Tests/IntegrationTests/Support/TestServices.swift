import Foundation
import PulseTestSupport
import Testing

/// What only the process tests need on top of `PulseTestSupport`'s `TestServices`: the built
/// `pulse-video` binary and the scripts that run beside it.
extension TestServices {
    /// `.build/<triple>/debug`: the folder of this test binary, where SwiftPM also put `pulse-video`.
    static let buildDirectory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    static var pulseVideo: String {
        get throws {
            let path = buildDirectory + "/pulse-video"
            try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run swift build --build-tests")
            return path
        }
    }

    static var proxyScript: String { packageRoot + "/scripts/testing/tcp_proxy.py" }
}

/// A name no other test or run uses: hex digits only, so it is a valid schema and bucket name part.
func uniqueName() -> String {
    String(UInt64.random(in: 0...UInt64.max), radix: 16)
}
