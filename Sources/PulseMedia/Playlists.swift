import Foundation

/// A finished rendition, measured from its segments; what the master playlist states.
public struct RenditionSummary: Codable, Sendable, Equatable {
    public var name: String
    /// Nil for the audio rendition.
    public var rung: Rung?
    /// Highest segment bit rate (bits/s).
    public var peakBitRate: Int
    /// Mean bit rate over the whole rendition (bits/s).
    public var averageBitRate: Int
    public var segmentCount: Int
    public var duration: Double
    /// A video rendition's I-frame playlist rates; nil when it has none (audio; key frames unknown).
    public var iFrames: IFrameRates?

    public init(name: String, rung: Rung?, segments: [SegmentRecord]) {
        self.name = name
        self.rung = rung
        self.iFrames = rung == nil ? nil : IFrameRates(segments: segments)
        self.segmentCount = segments.count
        self.duration = segments.reduce(0) { $0 + $1.duration }
        let bytes = segments.reduce(Int64(0)) { $0 + $1.bytes }
        self.averageBitRate = duration > 0 ? Int((Double(bytes) * 8 / duration).rounded(.up)) : 0
        self.peakBitRate = segments.map { $0.duration > 0 ? Int((Double($0.bytes) * 8 / $0.duration).rounded(.up)) : 0 }.max() ?? 0
    }
}

/// Writes the playlists ourselves from measured segments: ffmpeg 5.1's master playlist has no
/// AVERAGE-BANDWIDTH or FRAME-RATE and, in CRF mode, a BANDWIDTH that counts only the audio.
public enum PlaylistWriter {
    /// A VOD media playlist for one rendition. The target duration is the plan's
    /// (`SegmentSchedule.targetDuration`), so every version of a playlist states the same one; a
    /// segment that came out longer raises it (never seen: keyframes are forced).
    public static func mediaPlaylist(_ segments: [SegmentRecord], targetDuration planned: Int? = nil) -> String {
        let target = max(planned ?? 1, segments.map { Int($0.duration.rounded()) }.max() ?? 1)
        var lines = vodHeader(version: 3, targetDuration: target, firstSequence: segments.first?.sequence ?? 0)
        for segment in segments {
            lines.append(String(format: "#EXTINF:%.6f,", segment.duration))
            lines.append(segment.fileName)
        }
        lines.append("#EXT-X-ENDLIST")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The opening tags of a VOD media playlist.
    static func vodHeader(version: Int, targetDuration: Int, firstSequence: Int) -> [String] {
        [
            "#EXTM3U",
            "#EXT-X-VERSION:\(version)",
            "#EXT-X-TARGETDURATION:\(targetDuration)",
            "#EXT-X-MEDIA-SEQUENCE:\(firstSequence)",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
    }

    /// The master playlist: every video rendition, highest first, with the audio rendition as an
    /// alternate group when there is one, BANDWIDTH and AVERAGE-BANDWIDTH including the audio;
    /// then the audio alone as a variant of its own, the one under 192 kbit/s that Apple's rules
    /// ask for on cellular (Chromium never picks it while a video variant plays); then each video
    /// rendition's I-frame playlist when it has one (`iFrames`) and `iFrameStreams` is set.
    public static func masterPlaylist(video: [RenditionSummary], audio: RenditionSummary?, iFrameStreams: Bool = true) -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-INDEPENDENT-SEGMENTS"]
        let group = "aac"
        let audioCodec = "mp4a.40.2"
        if let audio {
            lines.append(
                "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"\(group)\",NAME=\"Audio\",LANGUAGE=\"und\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"\(audio.name)/index.m3u8\""
            )
        }
        for rendition in video {
            guard let rung = rendition.rung else { continue }
            var codecs = H264Level.codecString(for: rung)
            var attributes = [
                "BANDWIDTH=\(rendition.peakBitRate + (audio?.peakBitRate ?? 0))",
                "AVERAGE-BANDWIDTH=\(rendition.averageBitRate + (audio?.averageBitRate ?? 0))",
            ]
            if audio != nil { codecs += ",\(audioCodec)" }
            attributes += [
                "CODECS=\"\(codecs)\"",
                "RESOLUTION=\(rung.width)x\(rung.height)",
                String(format: "FRAME-RATE=%.3f", rung.frameRate),
            ]
            if audio != nil { attributes.append("AUDIO=\"\(group)\"") }
            lines.append("#EXT-X-STREAM-INF:" + attributes.joined(separator: ","))
            lines.append("\(rendition.name)/index.m3u8")
        }
        if let audio, !video.isEmpty {
            lines.append("#EXT-X-STREAM-INF:BANDWIDTH=\(audio.peakBitRate),AVERAGE-BANDWIDTH=\(audio.averageBitRate),CODECS=\"\(audioCodec)\"")
            lines.append("\(audio.name)/index.m3u8")
        }
        for rendition in video where iFrameStreams {
            guard let rung = rendition.rung, let rates = rendition.iFrames else { continue }
            let attributes = [
                "BANDWIDTH=\(rates.peakBitRate)",
                "AVERAGE-BANDWIDTH=\(rates.averageBitRate)",
                "CODECS=\"\(H264Level.codecString(for: rung))\"",
                "RESOLUTION=\(rung.width)x\(rung.height)",
                "URI=\"\(rendition.name)/\(IFramePlaylist.fileName)\"",
            ]
            lines.append("#EXT-X-I-FRAME-STREAM-INF:" + attributes.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
