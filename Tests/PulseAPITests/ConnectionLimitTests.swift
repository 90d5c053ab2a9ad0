import Foundation
import HummingbirdWSClient
import Logging
@testable import PulseAPI
import PulseJobs
import PulseService
import PulseTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits on connections: idle and header timeouts, WebSockets per token and in all,
/// sockets closed when their token expires, refused upgrades answered in JSON, the re-read shared
/// per asset, filenames limited in bytes and tokens in their canonical form only.
@Suite("Connection limits")
struct ConnectionLimitTests {
    // MARK: Timeouts

    @Test("an idle connection, a half-sent head and a trickled head are closed; a WebSocket is not")
    func timeouts() async throws {
        try await TestServer.with(worker: false, configure: {
            $0.idleTimeout = .seconds(2)
            $0.headerTimeout = .seconds(1)
        }) { server in
            let idle = try RawConnection(server.baseURL)
            let halfHead = try RawConnection(server.baseURL)
            try halfHead.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
            let keepAlive = try RawConnection(server.baseURL)
            try keepAlive.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await keepAlive.readHead().status == 200)

            // The half-sent head goes after the header timeout, before the idle timeout.
            let halfClosed = try await halfHead.secondsUntilClosed(within: 5)
            #expect(halfClosed != nil && halfClosed! < 1.9, "a half-sent head stayed open: \(String(describing: halfClosed))")
            #expect(try await idle.secondsUntilClosed(within: 5) != nil, "an idle connection stayed open")
            #expect(try await keepAlive.secondsUntilClosed(within: 5) != nil, "an idle keep-alive connection stayed open")

            // One byte at a time moves no deadline: the connection is closed while the head is
            // still trickling in. A deadline that each byte moved (150 ms apart, under the 1 s
            // header timeout) would never pass during the trickle, however busy the machine, so
            // the test asks for no wall-clock bound, which a loaded machine stretches.
            let slow = try RawConnection(server.baseURL)
            // Blank lines first, which a parser skips: they are no head's end and stop no deadline.
            try slow.send("\r\n\r\n")
            var refused = false
            for byte in Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".utf8) {
                if (try? slow.send([byte])) == nil { refused = true; break }
                // The trickle is the behaviour under test: a client sending one byte every 150 ms.
                try await Task.sleep(for: .milliseconds(150))
            }
            #expect(refused, "a trickled head kept its connection to its last byte")

            // An events WebSocket is not an idle connection.
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let socket = try RawConnection(server.baseURL)
            try socket.sendUpgrade(path: "/v1/assets/\(id)/events?token=\(token)")
            #expect(try await socket.readHead().status == 101)
            #expect(try await socket.secondsUntilClosed(within: 3.5) == nil, "the WebSocket was closed as idle")
        }
    }

    @Test("the rest of a body answered before it was read is no new head: the connection stays open for the next request")
    func bodyAfterEarlyAnswer() async throws {
        try await TestServer.with(worker: false, configure: {
            $0.idleTimeout = .seconds(30)
            $0.headerTimeout = .seconds(1)
        }) { server in
            // A refused upload: answered from its head, before the server reads the body.
            let connection = try RawConnection(server.baseURL)
            let bodyLength = 3_000
            try connection.send("PUT /storage/uploads/\(UUID().uuidString.lowercased())/clip.mp4?expires=1&signature=00 HTTP/1.1\r\n"
                + "Host: x\r\nContent-Length: \(bodyLength)\r\n\r\n")
            try connection.send([UInt8](repeating: 0x61, count: 1_000))
            let refused = try await connection.readHead()
            #expect((400..<500).contains(refused.status), "\(refused)")
            try await connection.readBody(length: Int(refused.headers["content-length"] ?? "0") ?? 0)

            // The rest of the body trickles in over longer than the header timeout: it is the
            // answered request's, so no head deadline runs (a client slowed down by a busy
            // machine sends its body this way), and the connection serves the next request.
            for _ in 0..<2 {
                // The pace is the behaviour under test: body bytes 700 ms apart, past the 1 s timeout.
                try await Task.sleep(for: .milliseconds(700))
                try connection.send([UInt8](repeating: 0x61, count: 1_000))
            }
            // Then it idles past the header timeout: only the idle timeout applies now.
            try await Task.sleep(for: .milliseconds(1_200))
            try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await connection.readHead().status == 200)
        }
    }

    @Test("the header timeout bounds the client's sending of a head, not the server's deciding an upgrade")
    func upgradeDecisionOutlastsHeaderTimeout() async throws {
        // A header timeout shorter than any upgrade decision (a task of its own and a database
        // read): each head below is sent in one write, so it arrives whole before the deadline.
        try await TestServer.with(worker: false, configure: { $0.headerTimeout = .milliseconds(1) }) { server in
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let socket = try await RawConnection(server.baseURL).upgraded(path: "/v1/assets/\(id)/events?token=\(token)")
            defer { socket.close() }
            let refused = try await RawConnection(server.baseURL).refusedUpgrade(path: "/v1/assets/\(id)/events?token=at1.nonsense")
            #expect(refused.status == 401 && refused.errorCode == "ERR_UNAUTHORIZED", "\(refused.status) \(refused.text)")
            let plain = try RawConnection(server.baseURL)
            try plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await plain.readHead().status == 200)
        }
    }

    @Test("the end of a head is found across reads")
    func headEndAcrossReads() {
        var split = HeadEndScanner()
        let firstRead = split.scan(Array("GET / HTTP/1.1\r\nHost: x\r\n\r".utf8))
        let secondRead = split.scan(Array("\n".utf8))
        #expect(!firstRead && secondRead)
        var crs = HeadEndScanner()
        let crsFirst = crs.scan(Array("a\r\r\n\r".utf8))
        let crsSecond = crs.scan(Array("\n".utf8))
        #expect(!crsFirst && crsSecond)
        var none = HeadEndScanner()
        let bareLineFeed = none.scan(Array("GET / HTTP/1.1\r\nHost: x\r\n\n\r\n".utf8))
        #expect(!bareLineFeed)
        // Blank lines before the request line end no head.
        var leading = HeadEndScanner()
        let blankLines = leading.scan(Array("\r\n\r\n\r\n".utf8))
        let requestLine = leading.scan(Array("GET / HTTP/1.1\r\n".utf8))
        let rest = leading.scan(Array("Host: x\r\n\r\n".utf8))
        #expect(!blankLines && !requestLine && rest)
    }

    // MARK: WebSockets

    @Test("refused upgrades answer 401/403/404 with the JSON error body")
    func refusedUpgrades() async throws {
        try await TestServer.with(worker: false) { server in
            let a = try await server.createAsset()
            let b = try await server.createAsset()
            let idA = try #require(a["id"] as? String)
            let idB = try #require(b["id"] as? String)
            let tokenA = try #require(a["token"] as? String)
            let expired = server.server.tokenSigner.token(for: UUID(uuidString: idA)!, expires: Int64(Date().timeIntervalSince1970) - 10)
            let cases: [(String, String?, Int, String)] = [
                ("/v1/assets/\(idA)/events", nil, 401, "ERR_UNAUTHORIZED"),
                ("/v1/assets/\(idA)/events?token=at1.nonsense", nil, 401, "ERR_UNAUTHORIZED"),
                ("/v1/assets/\(idA)/events", "wrong-key", 401, "ERR_UNAUTHORIZED"),
                ("/v1/assets/\(idA)/events?token=\(expired)", nil, 401, "ERR_TOKEN_EXPIRED"),
                ("/v1/assets/\(idB)/events?token=\(tokenA)", nil, 403, "ERR_FORBIDDEN"),
                ("/v1/assets/\(UUID().uuidString.lowercased())/events", server.apiKey, 404, "ERR_NOT_FOUND"),
                ("/v1/assets/not-a-uuid/events", server.apiKey, 404, "ERR_NOT_FOUND"),
            ]
            for (path, bearer, status, code) in cases {
                let answer = try await RawConnection(server.baseURL).refusedUpgrade(path: path, bearer: bearer)
                #expect(answer.status == status && answer.errorCode == code, "\(path): \(answer.status) \(answer.text)")
                #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true, "\(path)")
                if status == 401 { #expect(answer.headers["www-authenticate"] == "Bearer", "\(path)") }
            }
        }
    }

    @Test("WebSockets beyond the per-token cap get 429, beyond the total 503; a closed socket frees its slot")
    func caps() async throws {
        try await TestServer.with(worker: false, configure: {
            $0.maxEventSocketsPerToken = 2
            $0.maxEventSockets = 4
        }) { server in
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let path = "/v1/assets/\(id)/events?token=\(token)"
            var open: [RawConnection] = []
            for _ in 0..<2 { open.append(try await RawConnection(server.baseURL).upgraded(path: path)) }
            let third = try await RawConnection(server.baseURL).refusedUpgrade(path: path)
            #expect(third.status == 429 && third.errorCode == "ERR_TOO_MANY_CONNECTIONS", "\(third.status) \(third.text)")

            // The API key counts against the total only.
            let keyPath = "/v1/assets/\(id)/events"
            for _ in 0..<2 { open.append(try await RawConnection(server.baseURL).upgraded(path: keyPath, bearer: server.apiKey)) }
            let fifth = try await RawConnection(server.baseURL).refusedUpgrade(path: keyPath, bearer: server.apiKey)
            #expect(fifth.status == 503 && fifth.errorCode == "ERR_UNAVAILABLE" && fifth.headers["retry-after"] != nil, "\(fifth.status) \(fifth.text)")
            #expect(server.server.eventSocketLimits.open() == 4)
            // Four sockets on one asset: one relay.
            let assetID = try #require(UUID(uuidString: id))
            try await waitUntil("the four sockets share one relay") { server.server.eventRelays.watched == [assetID: 4] }

            // A socket that goes gives its slot back.
            open.removeFirst().close()
            try await waitUntil("the slot is given back") { server.server.eventSocketLimits.open(token: token) == 1 }
            open.append(try await RawConnection(server.baseURL).upgraded(path: path))
            for connection in open { connection.close() }
            try await waitUntil("every slot is given back") { server.server.eventSocketLimits.open() == 0 }
            try await waitUntil("the relay stops with the last socket") { server.server.eventRelays.watched.isEmpty }
        }
    }

    @Test("a socket opened with a token is closed (4401 ERR_TOKEN_EXPIRED) when the token expires", .timeLimit(.minutes(1)))
    func tokenExpiry() async throws {
        // No re-read within the test: the expiry's own timer is the only thing that can end the
        // socket, so its close shows the timer works; how soon after the expiry it arrives is the
        // machine's load, not the behaviour (the test's time limit bounds it).
        try await TestServer.with(worker: false, configure: { $0.eventRecheckInterval = .seconds(3600) }) { server in
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let expires = Int64(Date().timeIntervalSince1970) + 2
            let token = server.server.tokenSigner.token(for: UUID(uuidString: id)!, expires: expires)
            let log = EventLog()
            let close = try await followEvents("\(server.wsBase)/v1/assets/\(id)/events?token=\(token)", into: log)
            #expect(log.types == ["snapshot"])
            #expect(close?.closeCode == .unknown(4401) && close?.reason == "ERR_TOKEN_EXPIRED", "\(String(describing: close))")
            #expect(Date().timeIntervalSince1970 >= Double(expires), "closed before the token expired")
        }
    }

    @Test("slots: per token, in all, the API key against the total only")
    func limitsUnit() throws {
        let limits = EventSocketLimits(maxTotal: 3, maxPerToken: 2)
        let first = try limits.reserve(token: "t")
        _ = try limits.reserve(token: "t")
        #expect(throws: APIError.self) { try limits.reserve(token: "t") }
        #expect(((try? limits.reserve(token: "t")) == nil))
        let key = try limits.reserve(token: nil)
        do {
            _ = try limits.reserve(token: "u")
            Issue.record("the total was passed")
        } catch let error as APIError {
            #expect(error.code == .unavailable && error.status.code == 503)
        }
        limits.release(first)
        limits.release(key)
        #expect(limits.open() == 1 && limits.open(token: "t") == 1)
        do {
            _ = try limits.reserve(token: "t")
            _ = try limits.reserve(token: "t")
            Issue.record("the per-token cap was passed")
        } catch let error as APIError {
            #expect(error.code == .tooManyConnections && error.status.code == 429)
        }
    }

    // MARK: Requests

    @Test("a filename is limited to 255 bytes, not characters")
    func filenameBytes() async throws {
        try await TestServer.with(worker: false) { server in
            let marks = "a" + String(repeating: "\u{0301}", count: 30_000) + ".mp4"  // 60 KB, 5 characters
            let refused = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey, body: Data(#"{"filename": "\#(marks)"}"#.utf8))
            #expect(refused.status == 400 && refused.errorCode == "ERR_INVALID_REQUEST", "\(refused.text)")
            let longest = String(repeating: "€", count: 85)  // 255 bytes
            #expect(try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey, body: json(["filename": longest])).status == 201)
            #expect(try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey, body: json(["filename": longest + "a"])).status == 400)
        }
    }

    @Test("a token is accepted only in the form the server wrote it")
    func canonicalTokens() async throws {
        let signer = AssetTokenSigner(secret: Array(repeating: 7, count: 32))
        let id = UUID()
        let token = signer.token(for: id, expires: 2_000)
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(signer.verify(token, now: now) == .valid(assetID: id))
        let parts = token.split(separator: ".").map(String.init)
        let variants = [
            "at1.+2000.\(parts[2]).\(parts[3])", "at1.02000.\(parts[2]).\(parts[3])",
            "at1.2000.\(parts[2].uppercased()).\(parts[3])", "at1.2000.\(parts[2]).\(parts[3].uppercased())",
            "at1. 2000.\(parts[2]).\(parts[3])", "at1.2000.\(parts[2]).\(parts[3]).",
        ]
        for variant in variants { #expect(signer.verify(variant, now: now) == .invalid, "\(variant)") }

        try await TestServer.with(worker: false) { server in
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let parts = token.split(separator: ".").map(String.init)
            #expect(try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: token).status == 200)
            for variant in ["at1.+\(parts[1]).\(parts[2]).\(parts[3])", "at1.0\(parts[1]).\(parts[2]).\(parts[3])", "at1.\(parts[1]).\(parts[2].uppercased()).\(parts[3])"] {
                let answer = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: variant)
                #expect(answer.status == 401 && answer.errorCode == "ERR_UNAUTHORIZED", "\(variant)")
                let upgrade = try await RawConnection(server.baseURL).refusedUpgrade(path: "/v1/assets/\(id)/events", bearer: variant)
                #expect(upgrade.status == 401, "\(variant)")
            }
        }
    }

    // MARK: Configuration

    @Test("the connection settings: defaults, variables, and bad values named")
    func configuration() throws {
        let defaults = try PulseConfiguration(environment: [:]).api
        #expect(defaults.idleTimeout == .seconds(30) && defaults.headerTimeout == .seconds(10))
        #expect(defaults.maxEventSocketsPerToken == 8 && defaults.maxEventSockets == 10_000)
        let set = try PulseConfiguration(environment: [
            "PULSE_IDLE_TIMEOUT_SECONDS": "5", "PULSE_HEADER_TIMEOUT_SECONDS": "2",
            "PULSE_MAX_WEBSOCKETS_PER_TOKEN": "3", "PULSE_MAX_WEBSOCKETS": "100",
        ]).api
        #expect(set.idleTimeout == .seconds(5) && set.headerTimeout == .seconds(2))
        #expect(set.maxEventSocketsPerToken == 3 && set.maxEventSockets == 100)

        func problems(_ environment: [String: String]) -> [String] {
            do {
                _ = try PulseConfiguration(environment: environment)
                return []
            } catch {
                return error.problems
            }
        }
        let bad = problems([
            "PULSE_IDLE_TIMEOUT_SECONDS": "0", "PULSE_HEADER_TIMEOUT_SECONDS": "soon",
            "PULSE_MAX_WEBSOCKETS_PER_TOKEN": "-1", "PULSE_MAX_WEBSOCKETS": "1.5",
        ])
        for name in ["PULSE_IDLE_TIMEOUT_SECONDS", "PULSE_HEADER_TIMEOUT_SECONDS", "PULSE_MAX_WEBSOCKETS_PER_TOKEN", "PULSE_MAX_WEBSOCKETS"] {
            #expect(bad.contains { $0.hasPrefix(name + " ") }, "\(name) not named in \(bad)")
        }
        let contradiction = problems(["PULSE_MAX_WEBSOCKETS_PER_TOKEN": "20", "PULSE_MAX_WEBSOCKETS": "10"])
        #expect(contradiction.count == 1 && contradiction[0].hasPrefix("PULSE_MAX_WEBSOCKETS_PER_TOKEN"), "\(contradiction)")
    }
}

// MARK: - Helpers

/// A plain TCP connection to the test server, for what an HTTP client will not do: idle, send
/// half a head, hold a WebSocket open without a client library (or without reading it), read a
/// refused handshake.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorCode: String? {
            ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]).flatMap { $0["error"] as? [String: Any] }?["code"] as? String
        }
    }

    /// - Parameter receiveBufferBytes: the kernel's receive buffer, fixed before connecting (a
    ///   small one fills after a few frames a reader does not read).
    init(_ baseURL: String, receiveBufferBytes: Int32? = nil) throws {
        let port = try #require(URLComponents(string: baseURL)?.port)
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw MissingPrerequisite(description: "socket() failed") }
        if var size = receiveBufferBytes {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close()
            throw MissingPrerequisite(description: "connect() failed")
        }
        setReceiveTimeout(seconds: 5)
    }

    deinit { close() }

    private var closed = false
    func close() {
        guard !closed else { return }
        closed = true
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }

    private func setReceiveTimeout(seconds: Double) {
        var timeout = timeval(tv_sec: .init(seconds), tv_usec: .init((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        #if canImport(Glibc)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        #else
        let sent = bytes.withUnsafeBytes { Darwin.send(descriptor, $0.baseAddress, $0.count, 0) }
        #endif
        guard sent == bytes.count else { throw MissingPrerequisite(description: "send() failed: the server closed the connection") }
    }

    /// Reads what is there: nil on timeout, [] when the peer closed.
    private func receive() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 { return Array(chunk[0..<count]) }
        if count == 0 { return [] }
        return errno == EAGAIN || errno == EWOULDBLOCK ? nil : []
    }

    /// Seconds until the server closes the connection, or nil if it is still open after `limit`.
    func secondsUntilClosed(within limit: Double) async throws -> Double? {
        try await onOwnThread {
            let started = ContinuousClock.now
            self.setReceiveTimeout(seconds: 0.1)
            defer { self.setReceiveTimeout(seconds: 5) }
            while ContinuousClock.now - started < .milliseconds(Int64(limit * 1000)) {
                if let bytes = self.receive(), bytes.isEmpty {
                    let elapsed = ContinuousClock.now - started
                    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                }
            }
            return nil
        }
    }

    /// Reads and drops `length` bytes of a response body.
    func readBody(length: Int) async throws {
        try await onOwnThread {
            while self.buffer.count < length {
                guard let bytes = self.receive(), !bytes.isEmpty else { throw MissingPrerequisite(description: "the body ended early") }
                self.buffer += bytes
            }
            self.buffer.removeFirst(length)
        }
    }

    /// The response head (status and lower-cased header names); what follows stays buffered.
    func readHead() async throws -> (status: Int, headers: [String: String]) {
        try await onOwnThread { try self.readHeadBlocking() }
    }

    private func readHeadBlocking() throws -> (status: Int, headers: [String: String]) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = buffer.indices.first(where: { buffer[$0...].starts(with: separator) }) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + separator.count)
                let lines = head.components(separatedBy: "\r\n")
                let status = Int(lines[0].split(separator: " ")[1]) ?? 0
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return (status, headers)
            }
            guard let bytes = receive(), !bytes.isEmpty else { throw MissingPrerequisite(description: "no response head") }
            buffer += bytes
        }
    }

    func sendUpgrade(path: String, bearer: String? = nil) throws {
        let authorization = bearer.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        try send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(authorization)\r\n")
    }

    /// Upgrades, or fails the test.
    func upgraded(path: String, bearer: String? = nil) async throws -> RawConnection {
        try sendUpgrade(path: path, bearer: bearer)
        let status = try await readHead().status
        guard status == 101 else { throw MissingPrerequisite(description: "upgrade of \(path) answered \(status)") }
        return self
    }

    /// After the upgrade's answer (`readHead`): reads the server's frames up to a close frame, its
    /// code and reason; nil when the connection ended (or a read timed out) first.
    func readToClose() async throws -> (code: UInt16, reason: String)? {
        try await onOwnThread {
            while true {
                while let (opcode, payload) = Self.frame(in: self.buffer) {
                    if opcode == 0x8 {
                        guard payload.count >= 2 else { return nil }
                        let code = UInt16(self.buffer[payload.lowerBound]) << 8 | UInt16(self.buffer[payload.lowerBound + 1])
                        return (code, String(decoding: self.buffer[(payload.lowerBound + 2)..<payload.upperBound], as: UTF8.self))
                    }
                    self.buffer.removeFirst(payload.upperBound)
                }
                guard let bytes = self.receive(), !bytes.isEmpty else { return nil }
                self.buffer += bytes
            }
        }
    }

    /// After the upgrade's answer (`readHead`): the server's next frame, its opcode and payload;
    /// nil when the connection ended (or a read timed out) first.
    func readFrame() async throws -> (opcode: UInt8, payload: [UInt8])? {
        try await onOwnThread {
            while true {
                if let (opcode, payload) = Self.frame(in: self.buffer) {
                    defer { self.buffer.removeFirst(payload.upperBound) }
                    return (opcode, Array(self.buffer[payload]))
                }
                guard let bytes = self.receive(), !bytes.isEmpty else { return nil }
                self.buffer += bytes
            }
        }
    }

    /// The server's next frame that is not a ping, each ping before it answered with its pong
    /// (pings may come at any moment, even before the first message on a slow machine).
    func readFrameAnsweringPings() async throws -> (opcode: UInt8, payload: [UInt8])? {
        while let frame = try await readFrame() {
            guard frame.opcode == 0x9 else { return frame }
            try sendFrame(opcode: 0xA, payload: frame.payload)
        }
        return nil
    }

    /// Ends this side of the connection (a FIN), keeping the other side open for reading.
    func shutdownWrite() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Sends one final frame as a client must (masked, RFC 6455 5.3), of at most 125 bytes.
    func sendFrame(opcode: UInt8, payload: [UInt8] = []) throws {
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        try send([0x80 | opcode, 0x80 | UInt8(payload.count)] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
    }

    /// The unmasked server frame at the start of `bytes`, once all of it has arrived: its opcode
    /// and where its payload lies.
    private static func frame(in bytes: [UInt8]) -> (opcode: UInt8, payload: Range<Int>)? {
        guard bytes.count >= 2 else { return nil }
        var header = 2
        var length = Int(bytes[1] & 0x7F)
        if length >= 126 {
            let size = length == 126 ? 2 : 8
            guard bytes.count >= 2 + size else { return nil }
            length = bytes[2..<(2 + size)].reduce(0) { $0 << 8 | Int($1) }
            header += size
        }
        guard bytes.count >= header + length else { return nil }
        return (bytes[0] & 0x0F, header..<(header + length))
    }

    /// The answer to an upgrade request that is refused, body included.
    func refusedUpgrade(path: String, bearer: String? = nil) async throws -> Answer {
        defer { close() }
        try sendUpgrade(path: path, bearer: bearer)
        return try await onOwnThread {
            let (status, headers) = try self.readHeadBlocking()
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while self.buffer.count < length, let bytes = self.receive(), !bytes.isEmpty { self.buffer += bytes }
            return Answer(status: status, headers: headers, body: Data(self.buffer.prefix(length)))
        }
    }
}
