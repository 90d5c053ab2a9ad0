import Foundation
import NIOCore
import PulseStorage
import Synchronization
import Testing

/// What an HLS output under a prefix holds, read back from the bucket.
struct StoredHLS: Sendable {
    /// Keys relative to the prefix: `master.m3u8`, `720p/index.m3u8`, ...
    var playlists: [String]
    /// Every segment the playlists name, relative to the prefix (`720p/seg_00003.ts`).
    var segments: [String]
    /// Every object under the prefix, relative to it.
    var objects: Set<String>
}

/// Reads `prefix/master.m3u8` and the playlists it names, and checks with `#expect` that every
/// named segment exists, each is named once, and nothing else is under the prefix apart from
/// the playlists and `extras` (e.g. `thumbnail.jpg`).
func checkStoredHLS(_ store: any ObjectStore, prefix: String, extras: Set<String> = ["thumbnail.jpg"]) async throws -> StoredHLS {
    let objects = Set(try await store.list(prefix: prefix).map { String($0.key.dropFirst(prefix.count)) })
    try #require(objects.contains("master.m3u8"), "no master.m3u8 under \(prefix); found \(objects.sorted())")
    let master = String(buffer: try await store.getContent(key: prefix + "master.m3u8"))
    let variants = playlistURIs(master)
    #expect(!variants.isEmpty, "the master playlist names no playlist:\n\(master)")
    var segments: [String] = []
    var playlists = ["master.m3u8"]
    for variant in Set(variants).sorted() {
        #expect(!variant.contains("://") && !variant.hasPrefix("/"), "absolute URI \(variant) in the master playlist")
        playlists.append(variant)
        let text = String(buffer: try await store.getContent(key: prefix + variant))
        let folder = (variant as NSString).deletingLastPathComponent
        let names = playlistURIs(text)
        #expect(!names.isEmpty, "\(variant) names no segment")
        // An I-frame playlist names each segment once per key frame in it (byte ranges).
        let iFramesOnly = text.contains("#EXT-X-I-FRAMES-ONLY")
        #expect(iFramesOnly || Set(names).count == names.count, "\(variant) names a segment twice: \(names)")
        #expect(text.contains("#EXT-X-ENDLIST"), "\(variant) is not complete (no #EXT-X-ENDLIST)")
        segments += names.map { folder.isEmpty ? $0 : "\(folder)/\($0)" }
    }
    let missing = Set(segments).subtracting(objects)
    #expect(missing.isEmpty, "segments named but not stored: \(missing.sorted())")
    // The storyboard (the job pipeline and `transcode` make it alike): its WebVTT and the sheets it names.
    var storyboard: Set<String> = []
    if objects.contains("storyboard.vtt") {
        let vtt = String(buffer: try await store.getBytes(key: prefix + "storyboard.vtt"))
        let sheets = Set(vtt.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            guard let mark = line.range(of: "#xywh=") else { return nil }
            return String(line[..<mark.lowerBound])
        })
        #expect(!sheets.isEmpty && sheets.isSubset(of: objects), "storyboard sheets \(sheets.sorted()) not all stored")
        storyboard = sheets.union(["storyboard.vtt"])
    }
    let strays = objects.subtracting(segments).subtracting(playlists).subtracting(extras).subtracting(storyboard)
    #expect(strays.isEmpty, "objects no playlist names (strays): \(strays.sorted())")
    for extra in extras { #expect(objects.contains(extra), "\(extra) missing under \(prefix)") }
    return StoredHLS(playlists: playlists, segments: segments, objects: objects)
}

/// URIs a playlist names: its non-tag lines and the `URI="..."` attributes of its tags.
func playlistURIs(_ text: String) -> [String] {
    var uris: [String] = []
    for raw in text.split(whereSeparator: \.isNewline) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { continue }
        if line.hasPrefix("#") {
            if let start = line.range(of: "URI=\"") {
                let rest = line[start.upperBound...]
                if let end = rest.firstIndex(of: "\"") { uris.append(String(rest[..<end])) }
            }
        } else {
            uris.append(line)
        }
    }
    return uris
}

/// Downloads everything under `prefix` into `folder` and decodes every stream of the master
/// playlist with ffmpeg; returns ffmpeg's status and its error output.
func decodeStoredHLS(_ store: any ObjectStore, prefix: String, into folder: String, logDirectory: String) async throws -> CommandResult {
    for object in try await store.list(prefix: prefix) {
        let relative = String(object.key.dropFirst(prefix.count))
        let path = "\(folder)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // As a player reads it: a playlist kept gzip-compressed is written out as its text.
        let bytes = object.key.hasSuffix(".m3u8") ? try await store.getContent(key: object.key) : try await store.getBytes(key: object.key, upTo: 256 << 20)
        try Data(bytes.readableBytesView).write(to: URL(fileURLWithPath: path))
    }
    return try await runCommand("/usr/bin/env", ["ffmpeg", "-nostdin", "-v", "error", "-i", "\(folder)/master.m3u8", "-map", "0", "-f", "null", "-"], logDirectory: logDirectory, timeout: .seconds(120))
}

/// Clips made for these tests (long and heavy enough that a kill lands mid-encode), cached per run.
enum Clips {
    private static let made = Mutex<[String: String]>([:])

    /// 6 s of 1920x1080 30 fps (1 s GOP) with stereo AAC: six 1 s chunks of about a second each on 2 cores.
    static func hd6s() async throws -> String {
        try await make("hd1080_6s.mp4", [
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
        ])
    }

    /// 20 s of 1920x1080 30 fps (1 s GOP) with stereo AAC: a first rendition of twenty 1 s
    /// segments (with 1 s segments) that takes a few seconds, long enough to be killed midway.
    static func hd20s() async throws -> String {
        try await make("hd1080_20s.mp4", [
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
        ])
    }

    private static func make(_ name: String, _ arguments: [String]) async throws -> String {
        if let path = made.withLock({ $0[name] }) { return path }
        // Kept between runs (the arguments fix the content); written under a temporary name, then renamed.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-it-clips").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(name)"
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
            made.withLock { $0[name] = path }
            return path
        }
        let partial = "\(path).\(getpid()).partial.mp4"
        let result = try await runCommand("/usr/bin/env", ["ffmpeg", "-nostdin", "-v", "error", "-y"] + arguments + [partial], logDirectory: folder, timeout: .seconds(120))
        try #require(result.status == 0, "could not make \(name): \(result.stderr)")
        // rename(2) replaces atomically if another run made it meanwhile.
        try #require(rename(partial, path) == 0, "could not rename \(partial)")
        made.withLock { $0[name] = path }
        return path
    }
}

