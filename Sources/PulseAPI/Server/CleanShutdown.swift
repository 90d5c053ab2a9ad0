public import ServiceLifecycle

/// Runs a service and treats a `CancellationError` thrown after graceful shutdown began as a clean
/// stop, so that SIGTERM ends the `ServiceGroup` (and the process) without an error.
///
/// Needed for `Worker`, whose poll loop is cancelled by `cancelWhenGracefulShutdown` and lets the
/// sleep's `CancellationError` escape; once `Worker` returns normally on shutdown this can go.
public struct CleanShutdown<Base: Service>: Service {
    let base: Base

    /// Wraps `base`.
    public init(_ base: Base) {
        self.base = base
    }

    public func run() async throws {
        do {
            try await base.run()
        } catch is CancellationError where Task.isShuttingDownGracefully {
            return
        }
    }
}
