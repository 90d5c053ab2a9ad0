import OpenAPIRuntime

extension Configuration {
    /// The settings a client of Pulse Video needs: dates with fractional seconds.
    ///
    /// The server writes every `date-time` with milliseconds (`2026-12-06T20:35:09.216Z`). The
    /// runtime's default transcoder, `.iso8601`, refuses those on Apple platforms (there it is an
    /// `ISO8601DateFormatter` with `.withInternetDateTime` only); `.iso8601WithFractionalSeconds`
    /// reads them on every platform.
    static let pulse = Configuration(dateTranscoder: .iso8601WithFractionalSeconds)
}
