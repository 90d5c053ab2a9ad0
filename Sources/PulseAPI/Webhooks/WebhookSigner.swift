import Crypto
import Foundation
import PulseSupport

/// Signs webhooks as the Standard Webhooks spec defines: `v1,` + base64 of
/// HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"), the key being the secret's
/// decoded bytes.
struct WebhookSigner: Sendable {
    let key: SymmetricKey

    init(secret: [UInt8]) {
        self.key = SymmetricKey(data: secret)
    }

    /// The `webhook-signature` value for a message sent at `timestamp` (Unix seconds).
    func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three Standard Webhooks headers for one attempt.
    func headers(id: String, timestamp: Int64, body: [UInt8]) -> [(String, String)] {
        [("webhook-id", id), ("webhook-timestamp", "\(timestamp)"), ("webhook-signature", signature(id: id, timestamp: timestamp, body: body))]
    }

    /// A short stable digest of a URL, to name an endpoint in the outbox without storing the URL.
    static func digest(_ text: String) -> String {
        Hex.encode(SHA256.hash(data: Array(text.utf8)).prefix(12))
    }
}
