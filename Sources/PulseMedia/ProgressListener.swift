import NIOCore
import NIOPosix

/// A TCP listener on 127.0.0.1 that receives ffmpeg's `-progress tcp://127.0.0.1:PORT`.
///
/// It is bound before ffmpeg starts: ffmpeg connects as a client and exits at once if nothing
/// listens.
enum ProgressListener {
    /// Binds a free loopback port, runs `body` with it, and hands every progress block to
    /// `onReport` while `body` runs.
    static func withListener<T: Sendable>(
        onReport: @escaping @Sendable (ProgressReport) -> Void,
        _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port else {
            try? await server.channel.close()
            throw MediaError(.encoderFailed, "could not bind the progress listener")
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        // One ffmpeg, one connection; a stray client only gets read and dropped.
                        try? await connection.executeThenClose { inbound, _ in
                            var parser = ProgressParser()
                            for try await buffer in inbound {
                                for report in parser.feed(buffer.readableBytesView) { onReport(report) }
                            }
                        }
                    }
                }
                return nil
            }
            do {
                let result = try await body(port)
                try? await server.channel.close()
                group.cancelAll()
                return result
            } catch {
                try? await server.channel.close()
                group.cancelAll()
                throw error
            }
        }
    }
}
