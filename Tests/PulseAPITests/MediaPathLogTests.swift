import Foundation
import NIOCore
@testable import PulseAPI
import PulseJobs
import Testing

/// A playback token never reaches the log: a media path spelt otherwise than the API writes it is
/// refused (404), and a token is redacted wherever it stands in a logged path.
@Suite("Media paths and the log")
struct MediaPathLogTests {
    @Test("non-canonical media paths are 404 and their tokens stay out of the log")
    func nonCanonicalPaths() async throws {
        let capture = LogCapture()
        var mac = ""
        try await TestServer.with(worker: false, logger: capture.logger()) { server in
            let assetID = try await server.readySignedAsset(files: ["master.m3u8": "#EXTM3U\n"])
            let id = Links.id(assetID)
            let token = server.server.dependencies.links.playbackTokens.token(for: assetID, expires: Int64(Date().timeIntervalSince1970) + 600)
            mac = String(token.split(separator: ".").last ?? "")

            func status(_ path: String) async throws -> Int {
                let connection = try RawConnection(server.baseURL)
                defer { connection.close() }
                try connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return try await connection.readHead().status
            }
            #expect(try await status("/media/\(id)/t/\(token)/master.m3u8") == 200)
            for path in [
                "/media/\(id)//t/\(token)/master.m3u8",
                "/media//\(id)/t/\(token)/master.m3u8",
                "//media/\(id)/t/\(token)/master.m3u8",
                "/media/\(id)/T/\(token)/master.m3u8",
                "/media/\(id)/%74/\(token)/master.m3u8",
                "/media/\(id)/t/\(token)//master.m3u8",
            ] {
                #expect(try await status(path) == 404, "\(path)")
            }
            // Canonical in form, but not the token's one spelling: refused as a token.
            #expect(try await status("/media/\(id)/t/\(token.uppercased())/master.m3u8") == 403)
        }
        let lines = capture.all
        #expect(mac.count == 64)
        #expect(!lines.contains { $0.lowercased().contains(mac) }, "a log line holds the token: \(lines.filter { $0.lowercased().contains(mac) })")
        #expect(lines.filter { $0.contains("http.path=") && $0.contains("REDACTED") }.count >= 8, "\(lines)")
    }

    @Test("a token is redacted wherever it stands in a path")
    func redaction() {
        let mac = String(repeating: "ab12", count: 16)
        let token = "1700000000.\(mac)"
        for (path, kept) in [
            ("/media/abc/t/\(token)/master.m3u8", "/media/abc/t/REDACTED/master.m3u8"),
            ("/media/abc//t/\(token)/master.m3u8", "/media/abc//t/REDACTED/master.m3u8"),
            ("/media//abc/t/\(token)/master.m3u8", "/media//abc/t/REDACTED/master.m3u8"),
            ("//media/abc/t/\(token)/master.m3u8", "//media/abc/t/REDACTED/master.m3u8"),
            ("/media/abc/T/\(token)/master.m3u8", "/media/abc/T/REDACTED/master.m3u8"),
            ("/media/abc/%74/\(token)/720p/seg_00001.ts", "/media/abc/%74/REDACTED/720p/seg_00001.ts"),
            ("/media/abc/t/x/\(token)/a.ts", "/media/abc/t/REDACTED/REDACTED/a.ts"),
            ("/v1/assets/\(token.uppercased())", "/v1/assets/REDACTED"),
            ("/anything/\(token.replacingOccurrences(of: "a", with: "%61"))", "/anything/REDACTED"),
        ] {
            #expect(LoggedPath.redacted(path) == kept, "\(path)")
        }
        // Ids, names and numbers of our paths stay readable.
        for path in ["/media/0f8e2c1a-5b3d-4e6f-8a9b-0c1d2e3f4a5b/720p/seg_00001.ts", "/v1/assets/0f8e2c1a-5b3d-4e6f-8a9b-0c1d2e3f4a5b/events", "/media/abc/thumbnail.jpg"] {
            #expect(LoggedPath.redacted(path) == path)
        }
    }

    @Test("the canonical media path: /media/, one slash between segments, t in lower case, nothing escaped")
    func canonical() {
        #expect(MediaRoutes.isCanonical("/media/abc/t/1.ab/master.m3u8"))
        #expect(MediaRoutes.isCanonical("/media/abc/720p/seg_00001.ts"))
        for path in ["/media/abc//x", "//media/abc/x", "/media//abc/x", "/media/abc/T/1.ab/x", "/media/abc/%74/x", "/media/abc/x/", "/media/abc/../x", "/Media/abc/x"] {
            #expect(!MediaRoutes.isCanonical(path), "\(path)")
        }
    }
}
