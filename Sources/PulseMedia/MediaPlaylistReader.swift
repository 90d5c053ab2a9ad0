import Foundation

/// Reads the `#EXTINF` entries of a media playlist ffmpeg wrote.
enum MediaPlaylistReader {
    struct Entry: Equatable {
        var duration: Double
        var uri: String
    }

    static func entries(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        var pendingDuration: Double?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#EXTINF:") {
                let value = line.dropFirst("#EXTINF:".count).prefix(while: { $0 != "," })
                pendingDuration = Double(value)
            } else if !line.isEmpty, !line.hasPrefix("#"), let duration = pendingDuration {
                entries.append(Entry(duration: duration, uri: String(line)))
                pendingDuration = nil
            }
        }
        return entries
    }
}
