import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Testing

@testable import PulseStorage
import SigV4

/// A bucket name of its own for each test, so tests never see each other's objects.
func uniqueBucket(_ label: String) -> String {
    "pulse-\(label)-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
}

func testConfiguration(endpoint: String, credentials: SigV4Credentials = .init(accessKeyID: "test", secretAccessKey: "test"))
    -> S3Configuration
{
    var configuration = S3Configuration(credentials: credentials, region: "us-east-1", endpoint: endpoint)
    configuration.retry.sleep = { _ in }  // retries in tests need no real waiting
    return configuration
}

extension S3Store {
    /// Creates the store's bucket (not part of the store's API: buckets are provisioned outside Pulse).
    func createBucket() async throws {
        let response = try await send(
            S3Request(method: .PUT, path: addressing.bucketRoot, timeout: .seconds(30)), key: nil
        )
        try await Self.drain(response)
    }
}

/// The resident set size of this process, from /proc/self/status, in bytes.
func residentSetSize() -> Int64 {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.filter(\.isNumber)
        return (Int64(digits) ?? 0) * 1024
    }
    return 0
}

func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-storage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func collect(_ stream: ObjectStream) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await chunk in stream { bytes += chunk.readableBytesView }
    return bytes
}

/// Keys that break naive encoders: spaces, unicode, `+`, `=`, `&`, `~`, `%`, nesting.
let awkwardKeys = [
    "plain.txt",
    "with space/and more spaces.mp4",
    "été/ünïcødé 視頻 😀.mov",
    "a+b=c&d~e.ts",
    "percent%20literal%2F.bin",
    "deep/nested/path/to/seg_00001.ts",
    "quote'paren(1)*star$dollar;semi,comma:colon@at!bang.m3u8",
    "xml<chars>&amp;.txt",
]
