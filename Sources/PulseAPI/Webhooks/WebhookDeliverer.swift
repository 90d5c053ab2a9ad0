import Foundation
public import Logging
import Metrics
public import PulseJobs
public import ServiceLifecycle

/// The payload of every webhook: `{"type", "timestamp", "data"}`, `data` being the asset exactly
/// as `GET /v1/assets/{id}` shows it.
struct WebhookPayload: Encodable {
    var type: String
    /// When the event happened (RFC 3339): the same on every attempt.
    var timestamp: String
    var data: AssetResource
}

/// Renders a message's body. `data` is the snapshot of the asset row taken when the event was
/// recorded (its status, progress and error are those of the event, as Mux and Stripe send
/// them), rendered at each attempt by `AssetResource`, so URLs are built (and S3 ones presigned)
/// fresh: a retry a day later does not carry an expired thumbnail URL.
struct WebhookRenderer: Sendable {
    let links: Links
    /// `PULSE_PUBLIC_URL`, else the address `serve` listens on, else the runtime's public URL.
    let base: @Sendable () -> String

    func body(_ message: WebhookMessage) async throws -> [UInt8] {
        let payload = WebhookPayload(
            type: message.type.rawValue,
            timestamp: Timestamp.string(message.createdAt),
            data: try await AssetResource.make(message.asset, links: links, base: base()))
        return Array(try JSON.encoder.encode(payload))
    }
}

/// Delivers the webhook outbox to the configured endpoints: `serve` and `worker` processes run
/// one each (any process may deliver; the outbox's leases keep two from sending one message at
/// once). `concurrency` loops claim due messages, send each to every endpoint that does not have
/// it yet, record every attempt, and schedule the retry (`RetryPolicy.webhookDelivery`) or the end.
/// `serve` also prunes the outbox by age. Graceful shutdown stops it; a message being sent then
/// is given back for another process.
public struct WebhookDeliverer: Service {
    let outbox: WebhookOutbox
    let configuration: WebhookConfiguration
    let transport: WebhookTransport
    let renderer: WebhookRenderer
    let prunes: Bool
    let owner: String
    let logger: Logger

    init(outbox: WebhookOutbox, configuration: WebhookConfiguration, renderer: WebhookRenderer, prunes: Bool, logger: Logger) {
        self.outbox = outbox
        self.configuration = configuration
        let clock = outbox.clock
        self.transport = WebhookTransport(
            signer: WebhookSigner(secret: configuration.secret),
            addresses: AddressPolicy(allowPrivate: configuration.allowPrivateAddresses),
            timeout: configuration.timeout,
            now: { clock.now() })
        self.renderer = renderer
        self.prunes = prunes
        self.owner = "webhooks-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8).lowercased())"
        var logger = logger
        logger[metadataKey: "service"] = "webhooks"
        self.logger = logger
    }

    /// Long enough for one attempt at every endpoint, one after another.
    var leaseSeconds: Double {
        Double(configuration.timeout.components.seconds) * Double(max(1, configuration.endpoints.count)) + 30
    }

    public func run() async throws {
        logger.info("webhook deliverer started", metadata: [
            "webhook.endpoints": "\(configuration.endpoints.map(\.redacted).joined(separator: " "))",
            "webhook.allow_private": "\(configuration.allowPrivateAddresses)",
        ])
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    if !configuration.endpoints.isEmpty {
                        for _ in 0..<max(1, configuration.concurrency) { group.addTask { try await self.deliverLoop() } }
                    }
                    if prunes { group.addTask { try await self.pruneLoop() } }
                }
            }
        } catch is CancellationError {}
        logger.info("webhook deliverer stopped")
    }

    private func deliverLoop() async throws {
        while !Task.isCancelled {
            let message: WebhookMessage?
            do {
                message = try await outbox.claim(owner: owner, leaseSeconds: leaseSeconds)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("could not claim a webhook; trying again", metadata: ["error": "\(error)"])
                message = nil
            }
            if let message { await deliver(message) } else { try await Task.sleep(for: configuration.pollInterval) }
        }
    }

    private func pruneLoop() async throws {
        while !Task.isCancelled {
            do {
                let pruned = try await outbox.prune(createdBefore: outbox.clock.now() - configuration.retentionSeconds)
                if pruned > 0 { logger.info("pruned old webhook messages", metadata: ["webhook.count": "\(pruned)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("could not prune webhook messages", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(600))
        }
    }

    /// One round of one message: every endpoint that does not have it yet, then its next state.
    func deliver(_ message: WebhookMessage) async {
        var metadata: Logger.Metadata = [
            "webhook.id": "\(message.id)", "webhook.type": "\(message.type.rawValue)",
            "asset.id": "\(message.assetID)", "webhook.attempt": "\(message.attempts)",
        ]
        var delivered = message.deliveredTo
        do {
            let body = try await renderer.body(message)
            for endpoint in configuration.endpoints where !delivered.contains(endpoint.key) {
                let started = outbox.clock.now()
                let clock = ContinuousClock()
                let start = clock.now
                let result = await transport.send(body, id: message.id, to: endpoint)
                let elapsed = start.duration(to: clock.now)
                if Task.isCancelled {
                    // Shutting down: the attempt was cut short, not answered. Given back untouched.
                    await Task { try? await outbox.release(message) }.value
                    return
                }
                let milliseconds = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000
                try await outbox.recordAttempt(message, WebhookAttempt(
                    attempt: message.attempts, endpoint: endpoint.redacted, attemptedAt: started,
                    durationMilliseconds: (milliseconds * 10).rounded() / 10, statusCode: result.statusCode,
                    outcome: result.outcome, error: result.error))
                Counter(label: "pulse_webhook_attempts_total", dimensions: [("outcome", result.outcome.rawValue)]).increment()
                metadata["webhook.endpoint"] = "\(endpoint.redacted)"
                metadata["webhook.status_code"] = "\(result.statusCode.map(String.init) ?? "-")"
                metadata["webhook.error"] = "\(result.error ?? "-")"
                if result.outcome == .delivered {
                    delivered.append(endpoint.key)
                    logger.info("webhook delivered", metadata: metadata)
                } else {
                    logger.warning("webhook attempt failed", metadata: metadata)
                }
            }
            let everyone = configuration.endpoints.allSatisfy { delivered.contains($0.key) }
            let result: WebhookOutbox.Result =
                if everyone { .delivered } else {
                    configuration.retry.nextAttempt(afterAttempt: message.attempts, startedAt: message.createdAt, now: outbox.clock.now())
                        .map { .retry(at: $0) } ?? .gaveUp
                }
            if result == .gaveUp {
                logger.error("webhook given up after its retry window", metadata: metadata)
            }
            if try await !outbox.finish(message, deliveredTo: delivered, result: result) {
                logger.warning("webhook lease lost before its result was written", metadata: metadata)
            }
        } catch {
            // The database failed: the lease runs out and another round (here or elsewhere) retries.
            metadata["error"] = "\(error)"
            logger.warning("webhook round not recorded; retrying after the lease", metadata: metadata)
        }
    }
}

extension WebhookDeliverer {
    /// The deliverer of a process built by `buildApplication`. `boundAddress` is `serve`'s (nil in
    /// a worker process).
    public static func make(
        api: APIConfiguration, webhooks: WebhookConfiguration, runtime: PulseRuntime, boundAddress: BoundAddress?, prunes: Bool, logger: Logger
    ) throws -> WebhookDeliverer {
        let address = boundAddress ?? BoundAddress()
        let links = try Links.make(api, runtime: runtime, boundAddress: address)
        let publicURL = api.publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let fallback = runtime.configuration.publicURL
        return WebhookDeliverer(
            outbox: WebhookOutbox(database: runtime.database),
            configuration: webhooks,
            renderer: WebhookRenderer(links: links, base: { publicURL ?? address.url ?? fallback }),
            prunes: prunes,
            logger: logger)
    }
}
