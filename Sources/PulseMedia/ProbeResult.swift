/// What ffprobe says about a source, reduced to what the pipeline needs. Codable: stored with the asset.
public struct ProbeResult: Codable, Sendable, Equatable {
    /// Container name as ffprobe reports it (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    public var container: String
    /// Duration in seconds, measured from the video stream's packets (see `Prober`).
    public var duration: Double
    /// What the container declares, when it declares anything: kept for the record, never used
    /// for limits or plans (a header can say 5 s over 60 s of video).
    public var declaredDuration: Double?
    /// Where the source's timestamps start (`-ss` counts from here), in seconds.
    public var startTime: Double?
    /// Overall bit rate in bits per second, when known.
    public var bitRate: Int?
    public var video: Video
    /// Nil when the source has no audio.
    public var audio: Audio?

    public struct Video: Codable, Sendable, Equatable {
        /// The stream's index in the source (nil in probes stored before it was recorded).
        public var streamIndex: Int?
        public var codec: String
        public var profile: String?
        public var pixelFormat: String
        public var bitDepth: Int
        /// Size of the coded frames.
        public var codedWidth: Int
        public var codedHeight: Int
        /// Size as shown: sample aspect ratio applied and rotation honoured.
        public var displayWidth: Int
        public var displayHeight: Int
        /// Clockwise rotation to apply for display (0, 90, 180, 270).
        public var rotation: Int
        /// Average frame rate (frames per second).
        public var frameRate: Double
        /// Video bit rate in bits per second, when known.
        public var bitRate: Int?
        /// Colour transfer (e.g. `smpte2084` for PQ HDR), when tagged.
        public var colorTransfer: String?

        /// Whether the transfer is HDR (PQ or HLG) and needs tone mapping to SDR.
        public var isHDR: Bool { colorTransfer == "smpte2084" || colorTransfer == "arib-std-b67" }
        /// The shorter display side: the ladder is measured on it.
        public var shortSide: Int { min(displayWidth, displayHeight) }
        public var isPortrait: Bool { displayHeight > displayWidth }
    }

    public struct Audio: Codable, Sendable, Equatable {
        /// The stream's index in the source (nil in probes stored before it was recorded).
        public var streamIndex: Int?
        /// How far its packets run from the start of the source, measured (nil: not measured).
        public var duration: Double?
        public var codec: String
        public var channels: Int
        public var sampleRate: Int
        public var bitRate: Int?
    }

    /// Input options for a read that needs the header's streams only (one frame at an instant, a
    /// list of packets): ffmpeg's stream analysis, which decodes frames ahead of the read, is
    /// skipped for MP4 and QuickTime, whose `moov` states every stream, its codec and every
    /// sample's duration. It is most of a 1080p H.264 thumbnail's time (0.28 s -> 0.16 s, the same
    /// JPEG). Other containers keep it: MPEG program streams and FLV make streams as their packets
    /// come (one could be missed or numbered otherwise), and Matroska's audio packets have no
    /// duration without it.
    var headerReadOptions: [String] {
        container.split(separator: ",").contains("mov") ? ["-nofind_stream_info"] : []
    }

    /// Where `-ss` points for `time` seconds into the source in a read with `headerReadOptions`:
    /// without the analysis ffmpeg does not know where the timestamps start, and counts from 0.
    func headerReadSeek(to time: Double) -> Double {
        headerReadOptions.isEmpty ? time : time + (startTime ?? 0)
    }
}
