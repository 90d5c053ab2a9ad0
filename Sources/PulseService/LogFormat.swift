/// How a process writes its log (`PULSE_LOG_FORMAT`): swift-log's text lines for people, or one
/// JSON object a line (level, label, message, metadata) for a log collector.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-01-01T00:00:00+0000 info pulse.serve : key=value message`, swift-log's usual line.
    case text
    /// `{"timestamp":…,"level":"info","label":"pulse.serve","message":…,"metadata":{…}}`.
    case json
}
