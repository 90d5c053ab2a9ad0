public import PulseSupport

/// A media failure with a code a product can act on (in the spirit of Cloudflare Stream's codes).
///
/// Codes are stable strings, defined with what they mean in `FailureCode` (PulseSupport).
public struct MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a stable machine-readable code: one of the service's `FailureCode`s,
    /// whose table says what it means for retry and for the public message.
    public typealias Code = FailureCode

    public let code: Code
    /// A human-readable explanation, safe to show to users (no URLs, no secrets).
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether the failure is about the input itself: retrying cannot help.
    public var isPermanent: Bool { code.retry == .never }

    /// Whether the failure is an outage of something outside us (storage): worth waiting out.
    public var isOutage: Bool { code.retry == .outage }

    public var description: String { "\(code): \(message)" }
}
