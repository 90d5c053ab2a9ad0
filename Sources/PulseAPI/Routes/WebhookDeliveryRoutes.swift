import Foundation
import Hummingbird
import PulseJobs

/// `GET /v1/webhook-deliveries`: what the webhook outbox holds and every attempt, so an operator
/// can see why a backend missed an event. API key only.
struct WebhookDeliveryRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<some RequestContext>) {
        router.get("v1/webhook-deliveries") { request, _ in try await self.list(request) }
    }

    struct AttemptResource: Encodable {
        var attempt: Int
        var endpoint: String
        var attemptedAt: String
        var durationMS: Double
        var statusCode: Int?
        var outcome: String
        var error: String?

        enum CodingKeys: String, CodingKey {
            case attempt, endpoint, outcome, error
            case attemptedAt = "attempted_at"
            case durationMS = "duration_ms"
            case statusCode = "status_code"
        }

        func encode(to encoder: any Encoder) throws {
            // Spelled out so that nil is sent as null rather than left out.
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(endpoint, forKey: .endpoint)
            try container.encode(attemptedAt, forKey: .attemptedAt)
            try container.encode(durationMS, forKey: .durationMS)
            try container.encode(statusCode, forKey: .statusCode)
            try container.encode(outcome, forKey: .outcome)
            try container.encode(error, forKey: .error)
        }
    }

    struct DeliveryResource: Encodable {
        var id: String
        var type: String
        var assetID: String
        var status: String
        var createdAt: String
        var nextAttemptAt: String?
        var finishedAt: String?
        var attempts: [AttemptResource]

        enum CodingKeys: String, CodingKey {
            case id, type, status, attempts
            case assetID = "asset_id"
            case createdAt = "created_at"
            case nextAttemptAt = "next_attempt_at"
            case finishedAt = "finished_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(type, forKey: .type)
            try container.encode(assetID, forKey: .assetID)
            try container.encode(status, forKey: .status)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
            try container.encode(finishedAt, forKey: .finishedAt)
            try container.encode(attempts, forKey: .attempts)
        }
    }

    struct ListResponse: Encodable {
        var deliveries: [DeliveryResource]
    }

    func list(_ request: Request) async throws -> Response {
        let d = dependencies
        try d.auth.requireAPIKey(request)
        let query = request.uri.queryParameters
        var assetID: UUID?
        if let text = query.get("asset_id"), !text.isEmpty {
            guard let id = UUID(uuidString: text) else { throw APIError(.invalidRequest, "asset_id must be an asset id") }
            assetID = id
        }
        var limit = 50
        if let text = query.get("limit") {
            guard let value = Int(text), (1...100).contains(value) else {
                throw APIError(.invalidRequest, "limit must be a whole number from 1 to 100")
            }
            limit = value
        }
        let deliveries = try await WebhookOutbox(database: d.database).deliveries(assetID: assetID, limit: limit)
        return try JSON.response(ListResponse(deliveries: deliveries.map { delivery in
            DeliveryResource(
                id: delivery.message.id,
                type: delivery.message.type.rawValue,
                assetID: Links.id(delivery.message.assetID),
                status: delivery.status,
                createdAt: Timestamp.string(delivery.message.createdAt),
                nextAttemptAt: delivery.nextAttemptAt.map(Timestamp.string),
                finishedAt: delivery.finishedAt.map(Timestamp.string),
                attempts: delivery.attempts.map { attempt in
                    AttemptResource(
                        attempt: attempt.attempt, endpoint: attempt.endpoint, attemptedAt: Timestamp.string(attempt.attemptedAt),
                        durationMS: attempt.durationMilliseconds, statusCode: attempt.statusCode,
                        outcome: attempt.outcome.rawValue, error: attempt.error)
                })
        }))
    }
}
