import Foundation
import Metrics
import Prometheus

/// The swift-metrics factory `serve` bootstraps: every handler lands on the registry `/metrics`
/// exports, named by Prometheus's rules (dots become underscores, a counter ends in `_total`) and
/// with its `# HELP` line. The code that records a metric (the worker, the queue, Hummingbird's
/// middleware) names it by label only, so its description lives in `help` here: a metric missing
/// from it is exported without HELP, which `promtool check metrics` reports.
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    /// swift-prometheus's bucket defaults, so histograms keep the layout they had without us.
    private let defaults: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.defaults = PrometheusMetricsFactory(registry: registry)
    }

    /// Description of each metric recorded through swift-metrics, by exported name.
    static let help: [String: String] = [
        "pulse_jobs_claimed_total": "Jobs claimed by this process's workers",
        "pulse_jobs_completed_total": "Jobs this process's workers finished",
        "pulse_jobs_retried_total": "Job attempts that failed and were queued again",
        "pulse_jobs_failed_total": "Jobs that failed for good",
        "pulse_jobs_worker_lost_total": "Jobs given up after their workers were lost too often",
        "pulse_jobs_lease_lost_total": "Jobs whose lease this process lost while running them",
        "pulse_job_seconds": "Run time of one job attempt, by kind",
        "pulse_encode_speed": "Encoding speed of the running job, as a multiple of real time",
        "pulse_assets_total": "Assets this process's workers finished, by outcome",
        "pulse_asset_processing_seconds": "Created-to-ready seconds of assets finished by this process",
        "pulse_assets_reaped_total": "Abandoned assets removed by the reaper, by status",
        "pulse_uploads_swept_total": "Unfinished multipart uploads aborted by the reaper",
        "pulse_webhook_attempts_total": "Webhook delivery attempts, by outcome",
        "hb_requests_total": "HTTP requests served",
        "hb_request_errors_total": "HTTP requests that ended in an error",
        "http_server_request_duration": "HTTP request duration in seconds",
        "http_server_active_requests": "HTTP requests in progress",
    ]

    /// The exported name of a metric recorded under `label`.
    static func exportedName(_ label: String, counter: Bool) -> String {
        let name = label.replacingOccurrences(of: ".", with: "_")
        return counter && !name.hasSuffix("_total") ? name + "_total" : name
    }

    private func descriptor(_ label: String, counter: Bool = false) -> MetricNameDescriptor {
        let name = Self.exportedName(label, counter: counter)
        return MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label, counter: true), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label, counter: true), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = defaults.valueHistogramBuckets[label] ?? defaults.defaultValueHistogramBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = defaults.durationHistogramBuckets[label] ?? defaults.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { defaults.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { defaults.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { defaults.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { defaults.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { defaults.destroyTimer(handler) }
}
