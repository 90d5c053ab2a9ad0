import PulseAPI
import ServiceLifecycle

/// The HTTP server of `serve` as a `Service`: a failure to listen (the address taken, not ours
/// to take, or not resolving) is a `StartupError` naming `host:port`, like every other refusal
/// to start, and ends the process with its status before any other service has started.
struct ListeningServer: Service {
    let server: PulseServer
    let application: any Service

    init(_ server: PulseServer) {
        self.server = server
        self.application = server.makeApplication()
    }

    func run() async throws {
        do {
            try await application.run()
        } catch {
            guard server.boundAddress.url == nil, let problem = PulseServer.listenProblem(error) else { throw error }
            throw StartupError(.addressUnavailable, "cannot listen on \(server.listenAddress) (--host, --port): \(problem)")
        }
    }
}

/// A service of `serve` that starts only once the HTTP server is bound, so that a process which
/// cannot listen has claimed no job and sent nothing when it ends. Stopped (or cancelled, when
/// the server failed) before that, it ends without having started.
struct StartsOnceListening: Service {
    let service: any Service
    let address: BoundAddress

    func run() async throws {
        do {
            _ = try await cancelWhenGracefulShutdown { try await address.bound() }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}
