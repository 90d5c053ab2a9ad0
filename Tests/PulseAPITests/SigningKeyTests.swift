import Crypto
import CryptoExtras
import Foundation
import JWTKit
import NIOCore
@testable import PulseAPI
import PulseJobs
import PulseTestSupport
import Synchronization
import Testing

/// Signing keys and playback JWTs signed offline with them (the Mux model), against a live server:
/// the key routes, every refusal of the verifier, the media route with JWTs, and the key cache.
@Suite("Signing keys and playback JWTs")
struct SigningKeyTests {
    /// A key made through the API: its id and the private key it returned, loaded by jwt-kit.
    struct CreatedKey {
        var id: String
        var privateKeyPEM: String
        var signer: JWTKeyCollection
    }

    static func createKey(_ server: TestServer) async throws -> CreatedKey {
        let created = try await send(.POST, "\(server.baseURL)/v1/signing-keys", bearer: server.apiKey)
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? String)
        let pem = try #require(created.json["private_key"] as? String)
        let signer = await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: JWKIdentifier(string: id))
        return CreatedKey(id: id, privateKeyPEM: pem, signer: signer)
    }

    /// A JWT signed with `key`, with the given claims (`exp` in seconds from now).
    static func sign(_ key: CreatedKey, sub: String, aud: [String], exp: Double = 600, nbf: Double? = nil, kid: String? = nil) async throws -> String {
        let now = Date().timeIntervalSince1970
        let claims = PlaybackJWTVerifier.Claims(
            sub: SubjectClaim(value: sub), aud: AudienceClaim(value: aud), exp: ExpirationClaim(value: Date(timeIntervalSince1970: now + exp)),
            nbf: nbf.map { NotBeforeClaim(value: Date(timeIntervalSince1970: now + $0)) })
        var header = JWTHeader()
        header.kid = kid ?? key.id
        // The header's kid picks the key in the collection; an unknown one falls back to the
        // collection's only key, which signs under another key's id.
        return try await key.signer.sign(claims, header: header)
    }

    /// A token with the given header and claims and a signature made by `signature`.
    static func forge(header: [String: Any], claims: [String: Any], signature: (Data) -> Data) -> String {
        func part(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let input = part(json(header)) + "." + part(json(claims))
        return input + "." + part(signature(Data(input.utf8)))
    }

    @Test("the key routes: create once with the private key, list without it, revoke; API key only")
    func routes() async throws {
        try await TestServer.with(worker: false) { server in
            let url = "\(server.baseURL)/v1/signing-keys"
            let first = try await send(.POST, url, bearer: server.apiKey)
            #expect(first.status == 201 && first.headers["Cache-Control"] == ["no-store"])
            let pem = try #require(first.json["private_key"] as? String)
            #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n") && pem.trimmingCharacters(in: .newlines).hasSuffix("-----END PRIVATE KEY-----"))
            #expect(try _RSA.Signing.PrivateKey(pemRepresentation: pem).keySizeInBits == 2048)
            #expect(Set(first.json.keys) == ["id", "private_key", "created_at"])
            let id = try #require(first.json["id"] as? String)
            #expect(UUID(uuidString: id) != nil && id == id.lowercased())
            // The server keeps the public half only.
            let stored = try await server.runtime.database.queryFirst("SELECT public_key FROM signing_keys WHERE id = $1", [.text(id)])
            #expect(try stored?.text("public_key").hasPrefix("-----BEGIN PUBLIC KEY-----") == true)

            let second = try await send(.POST, url, bearer: server.apiKey, body: json([:]))
            #expect(second.status == 201, "an empty object is no option: \(second.text)")
            let secondID = try #require(second.json["id"] as? String)
            let unknown = try await send(.POST, url, bearer: server.apiKey, body: json(["bits": 4096]))
            #expect(unknown.status == 400 && unknown.errorCode == "ERR_INVALID_REQUEST" && unknown.text.contains("unknown field bits"))

            let listed = try await send(.GET, url, bearer: server.apiKey)
            let keys = try #require(listed.json["signing_keys"] as? [[String: Any]])
            #expect(keys.compactMap { $0["id"] as? String } == [id, secondID])
            #expect(keys.allSatisfy { Set($0.keys) == ["id", "created_at"] }, "\(listed.text)")

            // The API key only: an asset token is not enough, nothing at all is 401.
            let asset = try await server.createAsset()
            let assetToken = try #require(asset["token"] as? String)
            #expect(try await send(.POST, url, bearer: assetToken).errorCode == "ERR_FORBIDDEN")
            #expect(try await send(.GET, url, bearer: assetToken).errorCode == "ERR_FORBIDDEN")
            #expect(try await send(.DELETE, "\(url)/\(id)", bearer: assetToken).errorCode == "ERR_FORBIDDEN")
            #expect(try await send(.POST, url).status == 401)
            #expect(try await send(.GET, url).status == 401)

            #expect(try await send(.DELETE, "\(url)/\(id)", bearer: server.apiKey).status == 204)
            #expect(try await send(.DELETE, "\(url)/\(id)", bearer: server.apiKey).status == 404)
            #expect(try await send(.DELETE, "\(url)/\(UUID().uuidString.lowercased())", bearer: server.apiKey).status == 404)
            #expect(try await send(.DELETE, "\(url)/not-a-key", bearer: server.apiKey).errorCode == "ERR_NOT_FOUND")
            let after = try await send(.GET, url, bearer: server.apiKey).json["signing_keys"] as? [[String: Any]]
            #expect(after?.compactMap { $0["id"] as? String } == [secondID])
        }
    }

    @Test("the verifier: expired is told apart only for a genuine token; every other fault is invalid")
    func verifier() async throws {
        try await TestServer.with(worker: false) { server in
            let key = try await Self.createKey(server)
            let other = try await Self.createKey(server)
            let assetID = UUID()
            let sub = Links.id(assetID)
            let verifier = server.server.dependencies.playbackCredentials
            func verdict(_ token: String, _ file: [String] = ["master.m3u8"]) async throws -> PlaybackTokenSigner.Verdict {
                try await verifier.verify(token, assetID: assetID, path: file, now: Date())
            }

            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"])) == .valid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"]), ["720p", "seg_00001.ts"]) == .valid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"]), ["download.mp4"]) == .valid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["t"]), ["thumbnail.jpg"]) == .valid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["s"]), ["storyboard.jpg"]) == .valid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v", "t"]), ["thumbnail.jpg"]) == .valid)
            // Each audience opens its own files only.
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["t"])) == .invalid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"]), ["thumbnail.jpg"]) == .invalid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"]), ["storyboard.vtt"]) == .invalid)

            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"], exp: -5)) == .expired)
            // Expired, but for another asset: refused as not ours, not as expired.
            #expect(try await verdict(try await Self.sign(key, sub: Links.id(UUID()), aud: ["v"], exp: -5)) == .invalid)
            #expect(try await verdict(try await Self.sign(key, sub: Links.id(UUID()), aud: ["v"])) == .invalid)
            #expect(try await verdict(try await Self.sign(key, sub: sub.uppercased(), aud: ["v"])) == .invalid)
            // exp at most 7 days ahead; nbf honoured.
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"], exp: 7 * 24 * 3600 - 60)) == .valid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"], exp: 7 * 24 * 3600 + 60)) == .invalid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"], nbf: 60)) == .invalid)
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"], nbf: -60)) == .valid)
            // Unknown kid; another key's signature under this key's id.
            #expect(try await verdict(try await Self.sign(key, sub: sub, aud: ["v"], kid: Links.id(UUID()))) == .invalid)
            #expect(try await verdict(try await Self.sign(other, sub: sub, aud: ["v"], kid: key.id)) == .invalid)
            let tampered = try await Self.sign(key, sub: sub, aud: ["v"])
            #expect(try await verdict(String(tampered.dropLast(2)) + (tampered.hasSuffix("AA") ? "BB" : "AA")) == .invalid)

            // alg none, and HS256 with the public key as the HMAC secret: refused.
            let claims: [String: Any] = ["sub": sub, "aud": "v", "exp": Int(Date().timeIntervalSince1970) + 600]
            let none = Self.forge(header: ["alg": "none", "kid": key.id], claims: claims) { _ in Data() }
            #expect(try await verdict(none) == .invalid)
            let publicPEM = try #require(try await SigningKeyRepository(database: server.runtime.database).publicKey(UUID(uuidString: key.id)!))
            let hs256 = Self.forge(header: ["alg": "HS256", "kid": key.id, "typ": "JWT"], claims: claims) { input in
                Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data(publicPEM.utf8))))
            }
            #expect(try await verdict(hs256) == .invalid)
            // Oversized: a genuine token past the length limit.
            var big = PlaybackJWTVerifier.Claims(
                sub: SubjectClaim(value: sub), aud: AudienceClaim(value: ["v", String(repeating: "x", count: PlaybackJWTVerifier.maxLength)]),
                exp: ExpirationClaim(value: Date().addingTimeInterval(600)))
            big.nbf = nil
            #expect(try await verdict(try await key.signer.sign(big, kid: JWKIdentifier(string: key.id))) == .invalid)

            // The server's own tokens are unchanged, and good for every file.
            let minted = server.server.dependencies.links.playbackTokens.token(for: assetID, expires: Int64(Date().timeIntervalSince1970) + 600)
            #expect(try await verdict(minted) == .valid)
            #expect(try await verdict(minted, ["thumbnail.jpg"]) == .valid)

            // A revoke takes effect at once on this process.
            let token = try await Self.sign(key, sub: sub, aud: ["v"])
            #expect(try await verdict(token) == .valid)
            #expect(try await send(.DELETE, "\(server.baseURL)/v1/signing-keys/\(key.id)", bearer: server.apiKey).status == 204)
            #expect(try await verdict(token) == .invalid)
        }
    }

    @Test("the key cache: a revoke elsewhere takes effect within its lifetime, a revoke here at once")
    func cacheLifetime() async throws {
        try await TestServer.with(worker: false) { server in
            let key = try await Self.createKey(server)
            let id = try #require(UUID(uuidString: key.id))
            let clock = Mutex(Date())
            let repository = SigningKeyRepository(database: server.runtime.database)
            let cache = SigningKeyCache(repository: repository, now: { clock.withLock { $0 } })
            #expect(try await cache.keys(for: id) != nil)
            // Another serve revokes it: this one believes its entry until it expires.
            #expect(try await repository.delete(id))
            clock.withLock { $0 += Double(SigningKeyCache.lifetime.components.seconds) - 1 }
            #expect(try await cache.keys(for: id) != nil)
            clock.withLock { $0 += 2 }
            #expect(try await cache.keys(for: id) == nil)

            let second = try await Self.createKey(server)
            let secondID = try #require(UUID(uuidString: second.id))
            #expect(try await cache.keys(for: secondID) != nil)
            #expect(try await repository.delete(secondID))
            cache.forget(secondID)
            #expect(try await cache.keys(for: secondID) == nil)
        }
    }

    @Test("the media route plays a signed asset with JWTs: 401 expired, 403 otherwise, the JWT never logged")
    func mediaRoute() async throws {
        let capture = LogCapture()
        var tokens: [String] = []
        try await TestServer.with(worker: false, logger: capture.logger()) { server in
            let key = try await Self.createKey(server)
            let id = Links.id(try await server.readySignedAsset(files: ["master.m3u8": "#EXTM3U\n", "thumbnail.jpg": "jpeg"]))
            func get(_ token: String, _ file: String) async throws -> HTTPResult {
                tokens.append(token)
                return try await send(.GET, "\(server.baseURL)/media/\(id)/t/\(token)/\(file)")
            }

            let video = try await Self.sign(key, sub: id, aud: ["v"])
            let playlist = try await get(video, "master.m3u8")
            #expect(playlist.status == 200 && playlist.text == "#EXTM3U\n" && playlist.headers["Cache-Control"].first?.hasPrefix("private") == true)
            #expect(try await get(try await Self.sign(key, sub: id, aud: ["t"]), "thumbnail.jpg").status == 200)
            for (token, file) in [
                (video, "thumbnail.jpg"),
                (try await Self.sign(key, sub: Links.id(UUID()), aud: ["v"]), "master.m3u8"),
                (try await Self.sign(key, sub: id, aud: ["v"], kid: Links.id(UUID())), "master.m3u8"),
            ] {
                let refused = try await get(token, file)
                #expect(refused.status == 403 && refused.errorCode == "ERR_PLAYBACK_TOKEN_REQUIRED", "\(file): \(refused.text)")
            }
            let expired = try await get(try await Self.sign(key, sub: id, aud: ["v"], exp: -1), "master.m3u8")
            #expect(expired.status == 401 && expired.errorCode == "ERR_TOKEN_EXPIRED")
            #expect(try await send(.DELETE, "\(server.baseURL)/v1/signing-keys/\(key.id)", bearer: server.apiKey).status == 204)
            #expect(try await get(video, "master.m3u8").status == 403)
        }
        let lines = capture.all
        for token in tokens {
            let signature = String(token.split(separator: ".").last ?? "")
            #expect(!lines.contains { $0.contains(signature) }, "a log line holds a JWT")
        }
        #expect(lines.filter { $0.contains("http.path=") && $0.contains("REDACTED") }.count >= 7, "\(lines)")
    }

    @Test("a JWT is redacted wherever it stands in a logged path")
    func redaction() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
        #expect(LoggedPath.redacted("/media/abc/t/\(jwt)/master.m3u8") == "/media/abc/t/REDACTED/master.m3u8")
        #expect(LoggedPath.redacted("/media/abc/t/x/\(jwt)/a.ts") == "/media/abc/t/REDACTED/REDACTED/a.ts")
        #expect(LoggedPath.redacted("/anything/\(jwt)") == "/anything/REDACTED")
        #expect(LoggedPath.redacted("/media/abc/720p/seg_00001.ts") == "/media/abc/720p/seg_00001.ts")
    }
}
