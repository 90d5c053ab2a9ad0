import Synchronization

/// How many events WebSockets are open, per asset token and in all, and whether one more may be.
///
/// A slot is taken when an upgrade is accepted and given back when the connection closes (not when
/// the relay returns), so a socket counts for as long as it holds a file descriptor.
final class EventSocketLimits: Sendable {
    /// What an accepted socket holds: give it back exactly once with ``release(_:)``.
    struct Slot: Sendable, Hashable {
        /// The asset token the socket was opened with; nil for the API key.
        let token: String?
    }

    private struct Counts {
        var total = 0
        var perToken: [String: Int] = [:]
    }

    let maxTotal: Int
    let maxPerToken: Int
    private let counts = Mutex(Counts())

    init(maxTotal: Int, maxPerToken: Int) {
        self.maxTotal = maxTotal
        self.maxPerToken = maxPerToken
    }

    /// Takes a slot, or refuses: `429 ERR_TOO_MANY_CONNECTIONS` when this token has its share open,
    /// `503 ERR_UNAVAILABLE` when the process has. Sockets opened with the API key (`token` nil)
    /// count against the total only.
    func reserve(token: String?) throws -> Slot {
        try counts.withLock { counts throws(APIError) -> Slot in
            if let token, counts.perToken[token, default: 0] >= maxPerToken {
                throw APIError(.tooManyConnections, "this token already has \(maxPerToken) event streams open; close one first")
            }
            guard counts.total < maxTotal else {
                throw APIError(.unavailable, "the server has as many event streams open as it allows; try again later", headers: [.retryAfter: "5"])
            }
            counts.total += 1
            if let token { counts.perToken[token, default: 0] += 1 }
            return Slot(token: token)
        }
    }

    /// Gives a slot back.
    func release(_ slot: Slot) {
        counts.withLock { counts in
            counts.total = max(0, counts.total - 1)
            if let token = slot.token {
                let left = counts.perToken[token, default: 0] - 1
                counts.perToken[token] = left > 0 ? left : nil
            }
        }
    }

    /// Sockets open now (all, and with `token`).
    func open(token: String? = nil) -> Int {
        counts.withLock { counts in token.map { counts.perToken[$0, default: 0] } ?? counts.total }
    }
}
