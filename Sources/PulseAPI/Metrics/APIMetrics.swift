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
/// - `pulse_ready_assets_processing_seconds`: created-to-ready seconds summed over ready assets, all
///   processes (divided by `pulse_assets{status="ready"}`, the mean time to ready).
/// - `pulse_api_assets_created_total`, `pulse_api_uploads_completed_total`: this process's API work.
/// With swift-metrics bootstrapped to the same registry (as `serve` does), the worker's and the
/// queue's metrics (`pulse_job_seconds`, `pulse_assets_total`, `pulse_jobs_*`) and Hummingbird's
/// request metrics appear beside them.
public final class APIMetrics: Sendable {
    /// The registry `/metrics` exports.
    public let registry: PrometheusCollectorRegistry
    let webSocketsOpen: Prometheus.Gauge
    let queueDepth: Prometheus.Gauge
    let readyProcessingSeconds: Prometheus.Gauge
    let assetsCreated: Prometheus.Counter
    let uploadsCompleted: Prometheus.Counter

    /// Metrics on `registry`.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.webSocketsOpen = registry.makeGauge(descriptor: .init(metricName: "pulse_websockets_open", unitName: "", helpText: "Event WebSockets open on this process"))
        self.queueDepth = registry.makeGauge(descriptor: .init(metricName: "pulse_queue_depth", unitName: "", helpText: "Jobs queued or running"))
        self.readyProcessingSeconds = registry.makeGauge(descriptor: .init(metricName: "pulse_ready_assets_processing_seconds", unitName: "", helpText: "Created-to-ready seconds summed over ready assets"))
        self.assetsCreated = registry.makeCounter(descriptor: .init(metricName: "pulse_api_assets_created_total", unitName: "", helpText: "Assets created through this process"))
        self.uploadsCompleted = registry.makeCounter(descriptor: .init(metricName: "pulse_api_uploads_completed_total", unitName: "", helpText: "Uploads completed (queued) through this process"))
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
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: registry))
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
            registry.makeGauge(descriptor: .init(metricName: "pulse_assets", unitName: "", helpText: "Assets by status"), labels: [("status", status)]).set(count)
        }
        let row = try await database.queryFirst(
            "SELECT COALESCE(SUM(ready_at - created_at), 0.0) AS s FROM assets WHERE status = 'ready' AND ready_at IS NOT NULL",
            []
        )
        readyProcessingSeconds.set(try row?.double("s") ?? 0)
        return registry.emitToString()
    }
}
