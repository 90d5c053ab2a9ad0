/// The version `pulse-video --version` prints: the release, which is also the HTTP API's
/// (docs/openapi.yaml's `info.version`).
public enum PulseVersion {
    /// `1.0`.
    public static let current = "1.0"
}
