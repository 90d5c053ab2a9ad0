public import Foundation
public import PulseDatabase

/// The webhook events (Standard Webhooks `type`), one per state change a backend acts on.
public enum WebhookEventType: String, Sendable, Codable, CaseIterable {
    /// The thumbnail is stored (`AssetRepository.setThumbnail`).
    case thumbnailReady = "asset.thumbnail_ready"
    /// The first rendition plays (recorded by `AssetRepository.markPlayable`).
    case playable = "asset.playable"
    /// Every rendition is stored (`AssetRepository.markReady`).
    case ready = "asset.ready"
    /// Processing failed for good (`AssetRepository.fail`).
    case failed = "asset.failed"
}

/// One event waiting in (or taken from) the outbox: what is sent, and its delivery state.
public struct WebhookMessage: Sendable, Hashable {
    /// The `webhook-id`, the same on every attempt: `msg_` and 32 hex digits.
    public var id: String
    public var assetID: UUID
    public var type: WebhookEventType
    /// The asset row as it was when the event happened (the payload's `data` is rendered from it).
    public var asset: Asset
    /// When the event happened (epoch seconds): the payload's `timestamp`.
    public var createdAt: Double
    /// Attempts begun so far, this one included once claimed.
    public var attempts: Int
    /// Keys of the endpoints that already answered 2xx (a retry goes only to the others).
    public var deliveredTo: [String]
    /// The deliverer holding the lease (set by `claim`).
    public var leaseOwner: String?
}

/// How one attempt at one endpoint ended.
public enum WebhookAttemptOutcome: String, Sendable, Codable {
    /// A 2xx answer.
    case delivered
    /// Any other answer, a timeout or a connection error: retried.
    case failed
    /// Not sent: the endpoint resolved to an address the SSRF guard forbids. Retried, since DNS
    /// may change, and recorded so an operator sees why.
    case refused
}

/// One recorded attempt, as `GET /v1/webhook-deliveries` lists it.
public struct WebhookAttempt: Sendable, Hashable {
    public var attempt: Int
    /// The endpoint without credentials, query or fragment.
    public var endpoint: String
    public var attemptedAt: Double
    public var durationMilliseconds: Double
    /// The HTTP status, when an answer came.
    public var statusCode: Int?
    public var outcome: WebhookAttemptOutcome
    /// What went wrong, as a short class (`http_status`, `timeout`, `connect`, `dns`, `tls`,
    /// `private_address`, `other`); nil when delivered.
    public var error: String?

    public init(
        attempt: Int, endpoint: String, attemptedAt: Double, durationMilliseconds: Double,
        statusCode: Int?, outcome: WebhookAttemptOutcome, error: String?
    ) {
        self.attempt = attempt
        self.endpoint = endpoint
        self.attemptedAt = attemptedAt
        self.durationMilliseconds = durationMilliseconds
        self.statusCode = statusCode
        self.outcome = outcome
        self.error = error
    }
}

/// An outbox entry with its attempts, for the operator's listing.
public struct WebhookDelivery: Sendable, Hashable {
    /// `pending`, `delivered` or `failed` (given up).
    public var status: String
    public var message: WebhookMessage
    public var nextAttemptAt: Double?
    public var finishedAt: Double?
    public var attempts: [WebhookAttempt]
}

/// The webhook outbox (`webhook_outbox`, `webhook_attempts`): durable, at-least-once delivery.
///
/// An event is written by ``record(_:asset:on:now:)`` inside the transaction of the state change it
/// announces, so a crash can lose neither without the other. Any process may deliver: ``claim(owner:leaseSeconds:)``
/// leases one due message (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite serialises writers), and a
/// lease that expires (the deliverer died) makes it claimable again. Writes after the claim are
/// fenced by the lease.
public struct WebhookOutbox: Sendable {
    public let database: any Database
    public let clock: EpochClock

    public init(database: any Database, clock: EpochClock = .system) {
        self.database = database
        self.clock = clock
    }

    static let columns = """
        id, asset_id, event_type, asset_json, created_at, status, attempts, next_attempt_at, lease_owner, \
        delivered_json, finished_at
        """

    /// The outbox as leased work. Due means pending, its `next_attempt_at` come, and not leased
    /// (or its lease expired); the longest due goes first.
    static let leases = LeasedTable(
        name: "webhook_outbox",
        columns: columns,
        heldStatus: "pending",
        ready: """
            status = 'pending' AND next_attempt_at <= $3
              AND (lease_expires_at IS NULL OR lease_expires_at < $3)
            """,
        order: "next_attempt_at, id",
        updatedAt: nil
    )

    /// Writes an event for `asset` (the row as it is after the change) on `executor`: call it
    /// inside the transaction that makes the change. Returns the message id (`webhook-id`).
    /// Always written, whether or not this process has webhook URLs: the announcement must not
    /// depend on which process made the change, and any process with URLs delivers it.
    @discardableResult
    public static func record(
        _ type: WebhookEventType, asset: Asset, on executor: any DatabaseExecutor, now: Double
    ) async throws -> String {
        let id = "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try await executor.execute(
            """
            INSERT INTO webhook_outbox (id, asset_id, event_type, asset_json, created_at, next_attempt_at)
            VALUES ($1, $2, $3, $4, $5, $5)
            """,
            [
                .text(id), .text(asset.id.databaseText), .text(type.rawValue),
                .text(String(decoding: try encoder.encode(asset), as: UTF8.self)), .double(now),
            ]
        )
        return id
    }

    /// Leases the oldest due message to `owner` for `leaseSeconds` and counts one more attempt;
    /// nil when none is due.
    public func claim(owner: String, leaseSeconds: Double) async throws -> WebhookMessage? {
        let now = clock.now()
        let row = try await LeasedTable.claiming(on: database) { executor in
            try await Self.leases.claim(on: executor, owner: owner, until: now + leaseSeconds, now: now)
        }
        return try row.map(Self.message)
    }

    /// Records one attempt at one endpoint.
    public func recordAttempt(_ message: WebhookMessage, _ attempt: WebhookAttempt) async throws {
        try await database.execute(
            """
            INSERT INTO webhook_attempts (message_id, attempt, endpoint, attempted_at, duration_ms, status_code, outcome, error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [
                .text(message.id), .int(Int64(attempt.attempt)), .text(attempt.endpoint), .double(attempt.attemptedAt),
                .double(attempt.durationMilliseconds), DatabaseValue(attempt.statusCode),
                .text(attempt.outcome.rawValue), DatabaseValue(attempt.error),
            ]
        )
    }

    /// How a claimed message ends this round.
    public enum Result: Sendable, Hashable {
        /// Every endpoint answered 2xx.
        case delivered
        /// Try again at this time (epoch seconds).
        case retry(at: Double)
        /// The retry window is over.
        case gaveUp
    }

    /// Ends the lease with `result`, remembering which endpoints have it. False when the lease was
    /// lost (another deliverer took the message over after it expired): nothing is written.
    @discardableResult
    public func finish(_ message: WebhookMessage, deliveredTo: [String], result: Result) async throws -> Bool {
        let now = clock.now()
        let (status, next, finished): (String, Double, Double?) =
            switch result {
            case .delivered: ("delivered", now, now)
            case .retry(let at): ("pending", at, nil)
            case .gaveUp: ("failed", now, now)
            }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try await Self.leases.release(
            message.lease,
            set: "status = $4, next_attempt_at = $5, finished_at = $6, delivered_json = $7",
            [
                .text(status), .double(next), DatabaseValue(finished),
                .text(String(decoding: try encoder.encode(deliveredTo.sorted()), as: UTF8.self)),
            ],
            now: now,
            on: database
        ) != nil
    }

    /// Gives a claimed message back untouched but for the attempt it counted (a deliverer shutting
    /// down), so another process takes it at once instead of after the lease.
    public func release(_ message: WebhookMessage) async throws {
        try await Self.leases.release(message.lease, now: clock.now(), on: database)
    }

    /// Messages (newest first, at most `limit`) with their attempts, of one asset or of all.
    public func deliveries(assetID: UUID?, limit: Int = 100) async throws -> [WebhookDelivery] {
        let limit = Int64(max(1, min(limit, 1000)))
        let rows: [DatabaseRow]
        if let assetID {
            rows = try await database.query(
                "SELECT \(Self.columns) FROM webhook_outbox WHERE asset_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                [.text(assetID.databaseText), .int(limit)])
        } else {
            rows = try await database.query(
                "SELECT \(Self.columns) FROM webhook_outbox ORDER BY created_at DESC, id DESC LIMIT $1", [.int(limit)])
        }
        var deliveries: [WebhookDelivery] = []
        for row in rows {
            let message = try Self.message(row)
            let status = try row.text("status")
            let attempts = try await database.query(
                """
                SELECT attempt, endpoint, attempted_at, duration_ms, status_code, outcome, error
                FROM webhook_attempts WHERE message_id = $1 ORDER BY id
                """,
                [.text(message.id)]
            ).map { row in
                WebhookAttempt(
                    attempt: Int(try row.int("attempt")), endpoint: try row.text("endpoint"),
                    attemptedAt: try row.double("attempted_at"), durationMilliseconds: try row.double("duration_ms"),
                    statusCode: try row.optionalInt("status_code").map { Int($0) },
                    outcome: try AssetRepository.enumValue(WebhookAttemptOutcome.self, row, "outcome"),
                    error: try row.optionalText("error"))
            }
            deliveries.append(WebhookDelivery(
                status: status, message: message,
                nextAttemptAt: status == "pending" ? try row.double("next_attempt_at") : nil,
                finishedAt: try row.optionalDouble("finished_at"), attempts: attempts))
        }
        return deliveries
    }

    /// Deletes messages (with their attempts) created before `before`, whatever their state: the
    /// outbox is written for every event, so it is kept bounded by age. Returns how many went.
    @discardableResult
    public func prune(createdBefore before: Double) async throws -> Int {
        try await database.transaction { transaction in
            try await transaction.execute(
                "DELETE FROM webhook_attempts WHERE message_id IN (SELECT id FROM webhook_outbox WHERE created_at < $1)",
                [.double(before)])
            return try await transaction.execute("DELETE FROM webhook_outbox WHERE created_at < $1", [.double(before)])
        }
    }

    static func message(_ row: DatabaseRow) throws -> WebhookMessage {
        let assetText = try row.text("asset_id")
        guard let assetID = UUID(uuidString: assetText) else {
            throw DatabaseError(.decoding, message: "webhook asset_id \(assetText) is not a UUID")
        }
        let decoder = JSONDecoder()
        do {
            return WebhookMessage(
                id: try row.text("id"),
                assetID: assetID,
                type: try AssetRepository.enumValue(WebhookEventType.self, row, "event_type"),
                asset: try decoder.decode(Asset.self, from: Data(try row.text("asset_json").utf8)),
                createdAt: try row.double("created_at"),
                attempts: Int(try row.int("attempts")),
                deliveredTo: try decoder.decode([String].self, from: Data(try row.text("delivered_json").utf8)),
                leaseOwner: try row.optionalText("lease_owner"))
        } catch let error as DatabaseError {
            throw error
        } catch {
            throw DatabaseError(.decoding, message: "webhook message is not readable", underlying: error)
        }
    }
}

extension WebhookMessage {
    /// The lease this message, as claimed, stands for.
    var lease: Lease { Lease(id: .text(self.id), owner: self.leaseOwner, attempt: self.attempts) }
}
