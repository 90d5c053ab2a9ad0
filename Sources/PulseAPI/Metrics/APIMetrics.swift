import Foundation
import Logging
import Metrics
public import Prometheus
import PulseDatabase
import PulseJobs

/// The service's own Prometheus metrics, registered directly on the registry `/metrics` exports
/// (so they exist whether or not swift-metrics was bootstrapped), plus the ones read from the
/// database when scraped, which cover every process sharing it.
///
/// - `pulse_websockets_open`: event WebSockets open on this process.
/// - `pulse_queue_depth`: jobs queued or running, all processes.
/// - `pulse_assets{status}`: assets by status (the outcomes: `ready`, `failed`).
/// - `pulse_asset_processing_seconds_sum` / `_count`: created-to-ready time of ready assets.
/// - `pulse_api_assets_created_total`, `pulse_api_uploads_completed_total`: this process's API work.
/// With swift-metrics bootstrapped to the same registry (as `serve` does), the worker's and the
/// queue's metrics (`pulse_job_seconds`, `pulse_assets_total`, `pulse_jobs_*`) and Hummingbird's
/// request metrics appear beside them.
public final class APIMetrics: Sendable {
    /// The registry `/metrics` exports.
    public let registry: PrometheusCollectorRegistry
    let webSocketsOpen: Prometheus.Gauge
    let queueDepth: Prometheus.Gauge
    let processingSecondsSum: Prometheus.Gauge
    let processingSecondsCount: Prometheus.Gauge
    let assetsCreated: Prometheus.Counter
    let uploadsCompleted: Prometheus.Counter

    /// Metrics on `registry`.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.webSocketsOpen = registry.makeGauge(name: "pulse_websockets_open", help: "Event WebSockets open on this process")
        self.queueDepth = registry.makeGauge(name: "pulse_queue_depth", help: "Jobs queued or running")
        self.processingSecondsSum = registry.makeGauge(name: "pulse_asset_processing_seconds_sum", help: "Sum of created-to-ready seconds of ready assets")
        self.processingSecondsCount = registry.makeGauge(name: "pulse_asset_processing_seconds_count", help: "Ready assets counted in the sum")
        self.assetsCreated = registry.makeCounter(name: "pulse_api_assets_created_total", help: "Assets created through this process")
        self.uploadsCompleted = registry.makeCounter(name: "pulse_api_uploads_completed_total", help: "Uploads completed (queued) through this process")
    }

    /// Metrics on a registry of their own (tests, or a process that exports nothing else).
    public convenience init() {
        self.init(registry: PrometheusCollectorRegistry())
    }

    /// Metrics on a new registry to which swift-metrics is bootstrapped too, so the worker's, the
    /// queue's and Hummingbird's metrics are exported with ours. Bootstrapping can happen once per
    /// process: `serve` calls this; tests make `APIMetrics(registry:)` instead.
    public static func bootstrappingSwiftMetrics() -> APIMetrics {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return APIMetrics(registry: registry)
    }

    /// Reads the database-wide figures into their gauges, then renders the registry.
    func scrape(database: any Database, queue: JobQueue) async throws -> String {
        queueDepth.set(Double(try await queue.pendingCount()))
        var byStatus = Dictionary(uniqueKeysWithValues: AssetStatus.allCases.map { ($0.rawValue, 0.0) })
        // Fixed statements, no values from outside.
        for row in try await database.query("SELECT status, COUNT(*) AS n FROM assets GROUP BY status", []) {
            byStatus[try row.text("status")] = Double(try row.int("n"))
        }
        for (status, count) in byStatus {
            registry.makeGauge(name: "pulse_assets", labels: [("status", status)], help: "Assets by status").set(count)
        }
        let row = try await database.queryFirst(
            "SELECT COUNT(*) AS n, COALESCE(SUM(ready_at - created_at), 0.0) AS s FROM assets WHERE status = 'ready' AND ready_at IS NOT NULL",
            []
        )
        processingSecondsCount.set(Double(try row?.int("n") ?? 0))
        processingSecondsSum.set(try row?.double("s") ?? 0)
        return registry.emitToString()
    }
}
