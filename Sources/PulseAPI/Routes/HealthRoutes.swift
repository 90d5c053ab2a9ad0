import Hummingbird
import Logging
import NIOCore

/// `/healthz` (the process answers), `/readyz` (database, storage and, for a process that runs
/// workers, ffmpeg and ffprobe available) and `/metrics` (Prometheus text format). None needs
/// credentials; none shows internal detail (the reasons go to the log).
struct HealthRoutes: Sendable {
    let dependencies: APIDependencies
    /// The media tools the process's workers cannot find; nil when it runs no workers.
    let missingTools: (@Sendable () -> [String])?

    struct Readiness: Encodable {
        var status: String
        var database: String
        var storage: String
        /// `ok`, `missing`, or `unused` (no workers in this process).
        var tools: String
        /// Every dependency that is gone: `database`, `storage`, `ffmpeg`, `ffprobe`.
        var unavailable: [String]
    }

    func register(on router: Router<some RequestContext>) {
        router.get("healthz") { _, _ in try JSON.response(["status": "ok"]) }
        router.get("readyz") { _, _ in try await self.readiness() }
        router.get("metrics") { _, _ in
            let text = try await self.dependencies.metrics.scrape(database: self.dependencies.database, queue: self.dependencies.queue)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }

    private func readiness() async throws -> Response {
        let d = dependencies
        var unavailable: [String] = []
        do { _ = try await d.database.query("SELECT 1 AS one", []) } catch {
            unavailable.append("database")
            d.logger.warning("readiness: database unreachable", metadata: ["error": "\(error)"])
        }
        // A head of a key that never exists: nil when storage answers, an error when it does not.
        do { _ = try await d.store.head(key: "readyz/probe") } catch {
            unavailable.append("storage")
            d.logger.warning("readiness: storage unreachable", metadata: ["error": "\(error)"])
        }
        let tools = missingTools?() ?? []
        if !tools.isEmpty {
            d.logger.warning("readiness: media tools missing", metadata: ["tools": "\(tools.joined(separator: ", "))"])
        }
        unavailable += tools
        let readiness = Readiness(
            status: unavailable.isEmpty ? "ok" : "unavailable",
            database: unavailable.contains("database") ? "unreachable" : "ok",
            storage: unavailable.contains("storage") ? "unreachable" : "ok",
            tools: missingTools == nil ? "unused" : tools.isEmpty ? "ok" : "missing",
            unavailable: unavailable)
        return try JSON.response(readiness, status: unavailable.isEmpty ? .ok : .serviceUnavailable)
    }
}
