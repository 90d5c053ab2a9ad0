import Foundation
import Logging
import PulseService

/// The process's log handler, in the format `PULSE_LOG_FORMAT` names, on `TerminalOutput`'s
/// standard error (above the progress bar if one is drawn).
///
/// Either way, ids are spelt as the API spells them: a metadata value that is a UUID is written in
/// lower case, so that an asset id from a log line can be pasted into a URL or grepped for.
struct PulseLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private var text: StreamLogHandler

    init(label: String, format: LogFormat) {
        self.label = label
        self.format = format
        self.text = StreamLogHandler(label: label, stream: TerminalOutput.standardError)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        all = all.mapValues(Self.canonical)
        switch format {
        case .text:
            // swift-log's own line, fed the canonical metadata (the inner handler keeps none).
            var canonical = event
            canonical.metadata = all
            text.log(event: canonical)
        case .json:
            let object: [String: Any] = [
                "timestamp": Self.timestamp(), "level": event.level.rawValue, "label": label,
                "message": event.message.description, "metadata": all.mapValues(Self.json), "source": event.source,
            ]
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
            TerminalOutput.standardError.write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    /// A UUID in lower case (Foundation writes them in upper case), anything else as it is.
    private static func canonical(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text):
            return .string(lowercasedIfUUID(text))
        case .stringConvertible(let convertible):
            let text = convertible.description
            let lowered = lowercasedIfUUID(text)
            return lowered == text ? value : .string(lowered)
        case .array(let values):
            return .array(values.map(canonical))
        case .dictionary(let values):
            return .dictionary(values.mapValues(canonical))
        }
    }

    private static func lowercasedIfUUID(_ text: String) -> String {
        text.utf8.count == 36 && UUID(uuidString: text) != nil ? text.lowercased() : text
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
