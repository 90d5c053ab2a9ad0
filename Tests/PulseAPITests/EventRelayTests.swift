import Foundation
import HummingbirdWSClient
@testable import PulseAPI
import PulseJobs
import PulseTestSupport
import Synchronization
import Testing

/// The events WebSockets as one relay per asset serves them: order, the final event, the re-read,
/// token expiry and the slow-reader limit, with many sockets on one asset.
@Suite("Event relay", .timeLimit(.minutes(2)))
struct EventRelayTests {
    /// Opens `count` sockets on `url`, each recording into its log; returns the logs and a task
    /// per socket that ends with its close frame.
    private static func open(
        _ count: Int, _ url: String, group: inout ThrowingTaskGroup<(Int, WebSocketCloseFrame?), any Error>
    ) -> [EventLog] {
        let logs = (0..<count).map { _ in EventLog() }
        for (index, log) in logs.enumerated() {
            group.addTask { (index, try await followEvents(url, into: log)) }
        }
        return logs
    }

    /// A new asset and the events path with its token.
    private static func newAsset(_ server: TestServer) async throws -> (UUID, String) {
        let created = try await server.createAsset()
        let id = try #require((created["id"] as? String).flatMap(UUID.init(uuidString:)))
        let token = try #require(created["token"] as? String)
        return (id, "/v1/assets/\(id.uuidString.lowercased())/events?token=\(token)")
    }

    @Test("twenty sockets on one asset: the snapshot first, every event in order, the final ready, then close 1000")
    func orderAndFinalEvent() async throws {
        try await TestServer.with(worker: false, configure: { $0.maxEventSocketsPerToken = 50 }) { server in
            let (id, path) = try await Self.newAsset(server)
            try await withThrowingTaskGroup(of: (Int, WebSocketCloseFrame?).self) { group in
                let logs = Self.open(20, server.wsBase + path, group: &group)
                try await waitUntil("every socket has its snapshot") { logs.allSatisfy { $0.types == ["snapshot"] } }
                #expect(server.server.eventRelays.watched == [id: 20])

                let now = Date().timeIntervalSince1970
                var published: [AssetEvent] = [
                    AssetEvent(assetID: id, type: .status, status: .processing, at: now),
                    AssetEvent(assetID: id, type: .thumbnailReady, thumbnailKey: StorageKeys.thumbnail(id), at: now),
                ]
                published += stride(from: 10.0, through: 90, by: 10).map { AssetEvent(assetID: id, type: .progress, percent: $0, at: now) }
                published.append(AssetEvent(assetID: id, type: .playable, at: now))
                published.append(AssetEvent(assetID: id, type: .progress, percent: 100, at: now))
                published.append(AssetEvent(assetID: id, type: .ready, percent: 100, status: .ready, at: now))
                for event in published { try await server.runtime.bus.publish(event) }

                var closes: [WebSocketCloseFrame?] = []
                for try await (_, close) in group { closes.append(close) }
                let expected = ["snapshot"] + published.map(\.type.rawValue)
                for (index, log) in logs.enumerated() {
                    #expect(log.types == expected, "socket \(index): \(log.types)")
                    let percents = log.events.compactMap { $0["type"] as? String == "progress" ? $0["percent"] as? Double : nil }
                    #expect(percents == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], "socket \(index): \(percents)")
                }
                #expect(closes.count == 20)
                #expect(closes.allSatisfy { $0?.closeCode == .normalClosure && $0?.reason == "ready" }, "\(closes)")
            }
            try await waitUntil("the relay stops with its last socket") { server.server.eventRelays.watched.isEmpty }
        }
    }

    @Test("the periodic re-read brings every socket of an asset up to the stored state, one relay for all")
    func sharedRecheck() async throws {
        try await TestServer.with(worker: false, configure: { $0.maxEventSocketsPerToken = 50 }) { server in
            let (id, path) = try await Self.newAsset(server)
            try await withThrowingTaskGroup(of: (Int, WebSocketCloseFrame?).self) { group in
                let logs = Self.open(10, server.wsBase + path, group: &group)
                try await waitUntil("every socket has its snapshot") { logs.allSatisfy { $0.types == ["snapshot"] } }
                #expect(server.server.eventRelays.watched == [id: 10])
                // Progress stored without an event (as if the notification was lost in transit).
                #expect(try await AssetRepository(database: server.runtime.database).updateProgress(id, percent: 40))
                try await waitUntil("the re-read reaches every socket", timeout: .seconds(15)) {
                    logs.allSatisfy { $0.types == ["snapshot", "progress"] }
                }
                #expect(logs.allSatisfy { $0.events.last?["percent"] as? Double == 40 })
                // Deleting the asset ends every socket on the re-read.
                let deleted = try await send(.DELETE, "\(server.baseURL)/v1/assets/\(id.uuidString.lowercased())", bearer: server.apiKey)
                #expect(deleted.status < 300, "\(deleted.status)")
                for try await (index, close) in group {
                    #expect(close?.closeCode == .normalClosure && close?.reason == "failed", "socket \(index): \(String(describing: close))")
                }
                #expect(logs.allSatisfy { $0.types.last == "failed" })
            }
            try await waitUntil("the relay stops with its last socket") { server.server.eventRelays.watched.isEmpty }
        }
    }

    @Test("a socket's token expiry closes it with 4401 while the asset's other sockets keep their events")
    func expiryAmongOthers() async throws {
        try await TestServer.with(worker: false) { server in
            let created = try await server.createAsset()
            let id = try #require((created["id"] as? String).flatMap(UUID.init(uuidString:)))
            let path = "\(server.wsBase)/v1/assets/\(id.uuidString.lowercased())/events?token="
            // Long enough to be valid when the upgrade is checked, even with the whole suite running
            // on two cores (a 2 s token had expired before a slow upgrade, which is then refused).
            let short = server.server.tokenSigner.token(for: id, expires: Int64(Date().timeIntervalSince1970) + 10)
            let long = server.server.tokenSigner.token(for: id, expires: Int64(Date().timeIntervalSince1970) + 3600)
            try await withThrowingTaskGroup(of: (Int, WebSocketCloseFrame?).self) { group in
                let expiring = Self.open(1, path + short, group: &group)[0]
                let staying = Self.open(1, path + long, group: &group)[0]
                let (index, close) = try #require(try await group.next())
                #expect(index == 0 && close?.closeCode == .unknown(4401) && close?.reason == "ERR_TOKEN_EXPIRED", "\(String(describing: close))")
                #expect(expiring.types == ["snapshot"])
                try await waitUntil("the expired socket leaves its relay") { server.server.eventRelays.watched == [id: 1] }
                try await server.runtime.bus.publish(AssetEvent(assetID: id, type: .failed, errorCode: .internalFault, errorMessage: "x", status: .failed, at: 1))
                let (_, last) = try #require(try await group.next())
                #expect(staying.types == ["snapshot", "failed"])
                #expect(last?.closeCode == .normalClosure && last?.reason == "failed")
            }
        }
    }

    @Test("a reader that stops reading is closed with 4408 past the send limit; the asset's other socket gets every event")
    func slowReader() async throws {
        try await TestServer.with(worker: false, configure: { $0.eventSocketSendLimit = 1024 }) { server in
            let (id, path) = try await Self.newAsset(server)
            // A tiny receive buffer, and nothing read after the handshake until asked.
            let slow = try RawConnection(server.baseURL, receiveBufferBytes: 4096)
            try slow.sendUpgrade(path: path)
            let batches = server.server.eventRelays.batches
            try await withThrowingTaskGroup(of: (Int, WebSocketCloseFrame?).self) { group in
                let fast = Self.open(1, server.wsBase + path, group: &group)[0]
                try await waitUntil("both sockets joined") { server.server.eventRelays.watched == [id: 2] && fast.types == ["snapshot"] }
                // Status messages until the stalled reader's buffers (its own, the kernel's, the
                // server's limit) are full and the server closes it; the fast one keeps up all along.
                var sent = 0
                try await waitUntil("the stalled reader is closed as slow", timeout: .seconds(60), interval: .milliseconds(1)) {
                    for _ in 0..<50 {
                        try await server.runtime.bus.publish(AssetEvent(assetID: id, type: .status, status: .processing, at: Double(sent)))
                        sent += 1
                    }
                    try await waitUntil("the fast reader keeps up", context: { "\(fast.types.count) of \(sent + 1), last \(fast.types.suffix(2)), relays \(server.server.eventRelays.watched)" }) { fast.types.count == sent + 1 }
                    return batches.slowReadersClosed == 1
                }
                #expect(fast.types.count == sent + 1, "\(fast.types.count) of \(sent + 1)")
                // The close frame waits behind the messages still unsent: a reader that resumes
                // within the close grace reads them, then the close frame with its code. (One that
                // never resumes cannot get it: its connection ends at the grace, frames unsent.)
                #expect(try await slow.readHead().status == 101)
                let close = try await slow.readToClose()
                #expect(close?.code == EventFrame.CloseCode.slowReader.rawValue)
                #expect(close?.reason.hasPrefix("ERR_SLOW_READER") == true, "\(String(describing: close))")
                #expect(try await slow.secondsUntilClosed(within: 10) != nil)
                try await waitUntil("the stalled reader's socket left its relay") { server.server.eventRelays.watched == [id: 1] }
                try await server.runtime.bus.publish(AssetEvent(assetID: id, type: .failed, status: .failed, at: 0))
                for try await (_, last) in group { #expect(last?.closeCode == .normalClosure) }
            }
        }
    }

    @Test("a client's ping is answered, its close answered with its code, and a client that stops answering pings is closed")
    func pingsAndClose() async throws {
        // A client has one interval to answer a ping: 2 s leaves room for a loaded machine, where
        // this test's reads can wait their turn for a core for most of a second.
        try await TestServer.with(worker: false, configure: { $0.eventSocketPingInterval = .seconds(2) }) { server in
            let (id, path) = try await Self.newAsset(server)
            let socket = try await RawConnection(server.baseURL).upgraded(path: path, bearer: server.apiKey)
            // The server's own pings may come at any moment, before the snapshot too.
            #expect(try await socket.readFrameAnsweringPings()?.opcode == 0x1, "the snapshot first")
            try socket.sendFrame(opcode: 0x9, payload: Array("are you there".utf8))
            // The pong carries the client's payload.
            let frame = try await socket.readFrameAnsweringPings()
            #expect(frame?.opcode == 0xA && frame?.payload == Array("are you there".utf8), "\(String(describing: frame))")
            // Answering its pings keeps a socket open.
            for _ in 0..<3 {
                let ping = try await socket.readFrame()
                #expect(ping?.opcode == 0x9)
                try socket.sendFrame(opcode: 0xA, payload: ping?.payload ?? [])
            }
            #expect(server.server.eventRelays.watched == [id: 1])
            // Silent from now on: closed within two intervals of the last pong.
            #expect(try await socket.secondsUntilClosed(within: 10) != nil)
            try await waitUntil("the silent socket left its relay") { server.server.eventRelays.watched.isEmpty }

            // A client's close is answered with its status code, then the connection ends.
            let closing = try await RawConnection(server.baseURL).upgraded(path: path, bearer: server.apiKey)
            #expect(try await closing.readFrameAnsweringPings()?.opcode == 0x1)
            try closing.sendFrame(opcode: 0x8, payload: [0x0F, 0xA0] + Array("bye".utf8))
            var answer = try await closing.readFrame()
            while answer?.opcode == 0x9 { answer = try await closing.readFrame() }
            #expect(answer?.opcode == 0x8 && answer?.payload == [0x0F, 0xA0], "\(String(describing: answer))")
            #expect(try await closing.secondsUntilClosed(within: 5) != nil)
        }
    }


    @Test("a client that ends its side of the connection is gone: its socket closes and leaves the relay")
    func halfClosedClient() async throws {
        // Pings every 30 s (the default): the half-close alone must end the socket.
        try await TestServer.with(worker: false) { server in
            let (id, path) = try await Self.newAsset(server)
            let leaving = try await RawConnection(server.baseURL).upgraded(path: path)
            #expect(try await leaving.readFrame()?.opcode == 0x1, "the snapshot first")
            try await waitUntil("the socket joined") { server.server.eventRelays.watched == [id: 1] }
            // Nothing unread on the client's side, so the kernel sends a FIN, not a reset.
            leaving.shutdownWrite()
            #expect(try await leaving.secondsUntilClosed(within: 10) != nil)
            try await waitUntil("the socket left its relay") { server.server.eventRelays.watched.isEmpty }
        }
    }

}
