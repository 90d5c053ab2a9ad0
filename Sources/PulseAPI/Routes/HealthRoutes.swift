import Hummingbird
import Logging
import NIOCore

/// `/healthz` (the process answers), `/readyz` (database and storage reachable) and `/metrics`
/// (Prometheus text format). None needs credentials; none shows internal detail.
struct HealthRoutes: Sendable {
    let dependencies: APIDependencies

    struct Readiness: Encodable {
        var status: String
        var database: String
        var storage: String
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
        var databaseOK = true
        var storageOK = true
        do { _ = try await d.database.query("SELECT 1 AS one", []) } catch {
            databaseOK = false
            d.logger.warning("readiness: database unreachable", metadata: ["error": "\(error)"])
        }
        // A head of a key that never exists: nil when storage answers, an error when it does not.
        do { _ = try await d.store.head(key: "readyz/probe") } catch {
            storageOK = false
            d.logger.warning("readiness: storage unreachable", metadata: ["error": "\(error)"])
        }
        let ready = databaseOK && storageOK
        return try JSON.response(
            Readiness(status: ready ? "ok" : "unavailable", database: databaseOK ? "ok" : "unreachable", storage: storageOK ? "ok" : "unreachable"),
            status: ready ? .ok : .serviceUnavailable
        )
    }
}
