import Foundation
import PulseJobs
public import PulseSupport

/// Where webhooks go and how they are signed: `PULSE_WEBHOOK_URL` (one or more, comma-separated),
/// `PULSE_WEBHOOK_SECRET` (`whsec_` + base64 of 24 to 64 random bytes, as the Standard Webhooks
/// spec defines it) and `PULSE_WEBHOOK_ALLOW_PRIVATE`.
public struct WebhookConfiguration: Sendable {
    /// The receivers; empty means this process delivers nothing (events are still recorded).
    public var endpoints: [WebhookEndpoint] = []
    /// The HMAC key: the secret's decoded bytes. Never logged.
    public var secret: [UInt8] = []
    /// Whether endpoints may resolve to private, loopback, link-local or other internal addresses
    /// (`PULSE_WEBHOOK_ALLOW_PRIVATE`; off: the SSRF guard refuses them).
    public var allowPrivateAddresses = false
    /// Timeout of one attempt, connection included (10 s).
    public var timeout: Duration = .seconds(10)
    /// When a failed delivery is retried, and given up.
    public var retry: RetryPolicy = .webhookDelivery
    /// How often an idle deliverer looks for due messages.
    public var pollInterval: Duration = .seconds(1)
    /// Messages delivered at once by one process.
    public var concurrency = 4
    /// Outbox rows older than this are deleted by `serve` (7 days: well past the 24 h of retries).
    public var retentionSeconds: Double = 7 * 24 * 3600

    /// No webhooks.
    public init() {}

    /// Reads `PULSE_WEBHOOK_URL`, `PULSE_WEBHOOK_SECRET` (they go together) and
    /// `PULSE_WEBHOOK_ALLOW_PRIVATE`; bad values are recorded in `settings`, and neither a URL nor
    /// the secret is ever quoted back (a URL's query may carry a token).
    public init(reading settings: inout SettingsReader) {
        let urls = settings.text(variable: "PULSE_WEBHOOK_URL")
        let secret = settings.text(variable: "PULSE_WEBHOOK_SECRET")
        if let urls {
            do { endpoints = try Self.endpoints(urls) } catch { settings.problem("PULSE_WEBHOOK_URL", "\(error)") }
            if secret == nil { settings.problem("PULSE_WEBHOOK_SECRET", "must be set with PULSE_WEBHOOK_URL (whsec_ + base64 of 24 to 64 random bytes)") }
        }
        if let secret {
            do { self.secret = try Self.secret(secret) } catch { settings.problem("PULSE_WEBHOOK_SECRET", "\(error)") }
        }
        allowPrivateAddresses = settings.switchValue(flag: nil, variable: "PULSE_WEBHOOK_ALLOW_PRIVATE") ?? false
    }

    /// Most endpoints accepted (each is called for every event).
    public static let maxEndpoints = 10

    /// Parses `PULSE_WEBHOOK_URL`'s value; throws a message naming what is wrong (never the
    /// URL's query or credentials).
    public static func endpoints(_ text: String) throws(WebhookConfigurationError) -> [WebhookEndpoint] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw WebhookConfigurationError("must list at least one URL") }
        guard parts.count <= maxEndpoints else { throw WebhookConfigurationError("lists \(parts.count) URLs; at most \(maxEndpoints)") }
        var endpoints: [WebhookEndpoint] = []
        for (index, part) in parts.enumerated() {
            let endpoint = try WebhookEndpoint(part, position: index + 1)
            guard !endpoints.contains(where: { $0.url == endpoint.url }) else {
                throw WebhookConfigurationError("lists URL \(index + 1) twice")
            }
            endpoints.append(endpoint)
        }
        return endpoints
    }

    /// Parses `PULSE_WEBHOOK_SECRET`: `whsec_` followed by standard base64 of 24 to 64 bytes.
    public static func secret(_ text: String) throws(WebhookConfigurationError) -> [UInt8] {
        let prefix = "whsec_"
        guard text.hasPrefix(prefix) else { throw WebhookConfigurationError("must start with whsec_") }
        var encoded = String(text.dropFirst(prefix.count))
        // Unpadded base64 is accepted too, as the reference libraries do.
        while encoded.count % 4 != 0 { encoded += "=" }
        guard let bytes = Data(base64Encoded: encoded) else {
            throw WebhookConfigurationError("must be whsec_ followed by base64")
        }
        guard (24...64).contains(bytes.count) else {
            throw WebhookConfigurationError("must hold 24 to 64 bytes of key (got \(bytes.count))")
        }
        return Array(bytes)
    }
}

/// One receiver URL, checked at start-up: http or https, a host, no user or password, no fragment.
public struct WebhookEndpoint: Sendable, Hashable {
    /// The URL as configured (may carry a query; never logged or shown).
    public let url: String
    /// Scheme, host, port and path only: what logs and the deliveries listing show.
    public let redacted: String
    /// The host to resolve (brackets removed from an IPv6 literal).
    public let host: String
    /// A stable key for the outbox's record of who has a message (a digest of the URL).
    public let key: String

    init(_ text: String, position: Int) throws(WebhookConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw WebhookConfigurationError("URL \(position) must be an http:// or https:// URL with a host")
        }
        guard components.user == nil, components.password == nil else {
            throw WebhookConfigurationError("URL \(position) must not carry a user or password")
        }
        guard components.fragment == nil else { throw WebhookConfigurationError("URL \(position) must not have a #fragment") }
        self.url = text
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let port = components.port.map { ":\($0)" } ?? ""
        let bracketed = self.host.contains(":") ? "[\(self.host)]" : self.host
        self.redacted = "\(scheme)://\(bracketed)\(port)\(components.percentEncodedPath)"
        self.key = WebhookSigner.digest(text)
    }
}

/// A webhook setting that cannot be used; `message` never holds the secret or a URL.
public struct WebhookConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
