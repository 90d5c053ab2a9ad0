import Foundation
import Logging
@testable import PulseAPI
import PulseJobs
import PulseStorage
import SigV4
import Testing

@Suite("Event filter")
struct EventFilterTests {
    let id = UUID()

    func asset(progress: Double = 0, thumbnail: String? = nil, status: AssetStatus = .processing) -> Asset {
        // Asset has no public memberwise initialiser: made from its stored JSON form.
        var object: [String: Any] = [
            "id": id.uuidString, "status": status.rawValue, "progress": progress, "hls_parts": [String: Bool](),
            "attempts": 0, "created_at": 0.0, "updated_at": 0.0, "playback_policy": "public", "mp4": false,
        ]
        if let thumbnail { object["thumbnail_key"] = thumbnail }
        return try! JSONDecoder().decode(Asset.self, from: JSONSerialization.data(withJSONObject: object))
    }

    func progress(_ percent: Double) -> AssetEvent { AssetEvent(assetID: id, type: .progress, percent: percent, at: 0) }

    @Test("progress only rises, in steps of 2, and reaches 100 once")
    func monotonic() {
        var filter = EventFilter(snapshot: asset(progress: 10))
        let sent = [5, 11, 12, 14, 13, 20, 19, 99, 99.5, 100, 100].filter { filter.admit(progress($0)) }
        #expect(sent == [12, 14, 20, 99, 100])
    }

    @Test("one thumbnail, one terminal event, then silence")
    func terminal() {
        var filter = EventFilter(snapshot: asset())
        let thumbnail = AssetEvent(assetID: id, type: .thumbnailReady, thumbnailKey: "k", at: 0)
        let answers = [
            filter.admit(thumbnail), filter.admit(thumbnail),
            filter.admit(AssetEvent(assetID: id, type: .ready, percent: 100, at: 0)),
            filter.admit(AssetEvent(assetID: id, type: .failed, at: 0)), filter.admit(progress(100)),
        ]
        #expect(answers == [true, false, true, false, false])
    }

    @Test("catching up from the database fills in what the bus lost")
    func catchUp() {
        var filter = EventFilter(snapshot: asset())
        let caught = filter.catchUp(with: asset(progress: 40, thumbnail: "t"), now: 0)
        #expect(caught.map(\.type) == [.thumbnailReady, .progress])
        let repeated = filter.catchUp(with: asset(progress: 40, thumbnail: "t"), now: 0)
        #expect(repeated.isEmpty)
        let done = filter.catchUp(with: asset(progress: 100, thumbnail: "t", status: .ready), now: 0)
        #expect(done.map(\.type) == [.progress, .ready])
        let finished = filter.finished
        #expect(finished)
    }
}

@Suite("Tokens, ranges, names")
struct HelperTests {
    @Test("an asset token is bound to its asset, its signature and its expiry")
    func tokens() {
        let signer = AssetTokenSigner(secret: Array(repeating: 7, count: 32))
        let other = AssetTokenSigner(secret: Array(repeating: 8, count: 32))
        let id = UUID()
        let now = Date(timeIntervalSince1970: 1_000)
        let token = signer.token(for: id, expires: 2_000)
        #expect(signer.verify(token, now: now) == .valid(assetID: id))
        #expect(signer.verify(token, now: Date(timeIntervalSince1970: 2_001)) == .expired)
        #expect(other.verify(token, now: now) == .invalid)
        // Moving the token to another asset or a later expiry breaks the MAC.
        #expect(signer.verify(token.replacingOccurrences(of: id.uuidString.lowercased(), with: UUID().uuidString.lowercased()), now: now) == .invalid)
        #expect(signer.verify(token.replacingOccurrences(of: ".2000.", with: ".9000."), now: now) == .invalid)
        #expect(signer.verify("at1.x.y.z", now: now) == .invalid)
    }

    @Test("byte ranges", arguments: [
        ("bytes=0-99", ByteRange.partial(0...99)), ("bytes=100-", .partial(100...999)), ("bytes=-10", .partial(990...999)),
        ("bytes=990-5000", .partial(990...999)), ("bytes=1000-", .unsatisfiable), ("bytes=5-1", .whole),
        ("bytes=0-1,5-6", .whole), ("items=0-1", .whole), ("bytes=abc", .whole),
    ])
    func ranges(header: String, expected: ByteRange) {
        #expect(ByteRange(header: header, size: 1000) == expected)
    }

    @Test("upload file names become safe key segments")
    func filenames() {
        #expect(AssetRoutes.sanitisedFilename("My holiday (1).mp4") == "My_holiday__1_.mp4")
        #expect(AssetRoutes.sanitisedFilename("C:\\fakepath\\clip.mov") == "clip.mov")
        #expect(AssetRoutes.sanitisedFilename("../../etc/passwd") == "passwd")
        #expect(AssetRoutes.sanitisedFilename("..") == "upload")
        #expect(AssetRoutes.sanitisedFilename("vidéo.mp4") == "vid_o.mp4")
        #expect(AssetRoutes.sanitisedFilename(String(repeating: "a", count: 300) + ".mp4").count == 100)
        #expect(AssetRoutes.sanitisedFilename(String(repeating: "a", count: 300) + ".mp4").hasSuffix(".mp4"))
    }

    @Test("the API key file is made once, mode 0600, and read back")
    func apiKeyFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-key-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (key, created) = try APIKeyFile.loadOrCreate(dataDirectory: folder)
        #expect(created && key.hasPrefix("pv_") && key.count == 67)
        let again = try APIKeyFile.loadOrCreate(dataDirectory: folder)
        #expect(again.key == key && !again.created)
        let mode = try FileManager.default.attributesOfItem(atPath: "\(folder)/api-key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}


@Suite("Links")
struct LinkTests {
    @Test("S3 with a public media URL: playlists and thumbnails on it; uploads presigned")
    func publicMediaURL() async throws {
        var configuration = APIConfiguration(apiKey: "k")
        configuration.publicMediaURL = "https://cdn.example/pulse/"
        let s3 = S3Configuration(credentials: SigV4Credentials(accessKeyID: "a", secretAccessKey: "b"), endpoint: "http://127.0.0.1:1")
        let store = try makeObjectStore(url: .s3(bucket: "bucket", prefix: "pulse"), s3: s3, logger: Logger(label: "links-test"))
        let links = Links(configuration: configuration, store: store, localSigningSecret: nil, boundAddress: BoundAddress(),
            playbackTokens: PlaybackTokenSigner(secret: Array(repeating: 7, count: 32)))
        let id = UUID()
        let idText = id.uuidString.lowercased()
        #expect(links.playlistURL(assetID: id, base: "http://api") == "https://cdn.example/pulse/processed/\(idText)/master.m3u8")
        let thumbnail = try await links.thumbnailURL(assetID: id, key: "processed/\(idText)/thumbnail.jpg", base: "http://api")
        #expect(thumbnail == "https://cdn.example/pulse/processed/\(idText)/thumbnail.jpg")
        let upload = try await links.uploadURL(key: "uploads/\(idText)/a.mp4", base: "http://api", now: Date())
        #expect(upload.url.hasPrefix("http://127.0.0.1:1/bucket/pulse/uploads/\(idText)/a.mp4?") && upload.url.contains("X-Amz-Signature="))
    }
}
