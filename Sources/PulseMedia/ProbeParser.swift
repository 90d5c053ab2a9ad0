import Foundation

/// Turns ffprobe's JSON (`-show_format -show_streams`) into a `ProbeResult`.
enum ProbeParser {
    private struct Output: Decodable {
        var streams: [Stream]?
        var format: Format?
    }

    private struct Format: Decodable {
        var format_name: String?
        var duration: String?
        var start_time: String?
        var bit_rate: String?
    }

    private struct Stream: Decodable {
        var index: Int?
        var codec_type: String?
        var codec_name: String?
        var profile: String?
        var pix_fmt: String?
        var bits_per_raw_sample: String?
        var width: Int?
        var height: Int?
        var sample_aspect_ratio: String?
        var avg_frame_rate: String?
        var r_frame_rate: String?
        var bit_rate: String?
        var duration: String?
        var start_time: String?
        var channels: Int?
        var sample_rate: String?
        var color_transfer: String?
        var disposition: [String: Int]?
        var tags: [String: String]?
        var side_data_list: [SideData]?
    }

    private struct SideData: Decodable {
        var side_data_type: String?
        var rotation: Double?
    }

    static func parse(_ data: Data) throws(MediaError) -> ProbeResult {
        let output: Output
        do {
            output = try JSONDecoder().decode(Output.self, from: data)
        } catch {
            throw MediaError(.nonVideo, "the file could not be read as media")
        }
        let streams = output.streams ?? []
        // Cover art in audio files is a "video" stream with the attached_pic disposition.
        let videoStreams = streams.filter { $0.codec_type == "video" && ($0.disposition?["attached_pic"] ?? 0) == 0 }
        guard let video = videoStreams.first else {
            if streams.contains(where: { $0.codec_type == "audio" }) {
                throw MediaError(.noVideoStream, "the file holds audio but no video")
            }
            throw MediaError(.nonVideo, "the file holds no video stream")
        }
        guard let codedWidth = video.width, let codedHeight = video.height, codedWidth > 0, codedHeight > 0 else {
            throw MediaError(.malformedVideo, "the video stream has no frame size")
        }
        // What the header says, if anything; the Prober measures the real duration.
        let declared = (Double(output.format?.duration ?? "") ?? Double(video.duration ?? "")).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let startTime = Double(output.format?.start_time ?? "") ?? Double(video.start_time ?? "")

        let rotation = normalisedRotation(video)
        var displayWidth = codedWidth
        let displayHeight = codedHeight
        if let sar = ratio(video.sample_aspect_ratio), sar > 0, abs(sar - 1) > 0.001 {
            displayWidth = Int((Double(codedWidth) * sar).rounded())
        }
        let swapped = rotation == 90 || rotation == 270
        let frameRate = ratio(video.avg_frame_rate).flatMap { $0 > 0 ? $0 : nil }
            ?? ratio(video.r_frame_rate) ?? 30

        let audio = streams.first(where: { $0.codec_type == "audio" }).map { stream in
            ProbeResult.Audio(
                streamIndex: stream.index,
                codec: stream.codec_name ?? "unknown",
                channels: stream.channels ?? 2,
                sampleRate: Int(stream.sample_rate ?? "") ?? 48_000,
                bitRate: Int(stream.bit_rate ?? "")
            )
        }
        let totalBitRate = Int(output.format?.bit_rate ?? "")
        var videoBitRate = Int(video.bit_rate ?? "")
        if videoBitRate == nil, let totalBitRate {
            // Matroska/WebM carry no per-stream rate: estimate it from the total.
            videoBitRate = max(0, totalBitRate - (audio?.bitRate ?? (audio == nil ? 0 : 128_000)))
        }

        return ProbeResult(
            container: output.format?.format_name ?? "unknown",
            duration: declared ?? 0,
            declaredDuration: declared,
            startTime: startTime,
            bitRate: totalBitRate,
            video: .init(
                streamIndex: video.index,
                codec: video.codec_name ?? "unknown",
                profile: video.profile,
                pixelFormat: video.pix_fmt ?? "unknown",
                bitDepth: bitDepth(video),
                codedWidth: codedWidth,
                codedHeight: codedHeight,
                displayWidth: swapped ? displayHeight : displayWidth,
                displayHeight: swapped ? displayWidth : displayHeight,
                rotation: rotation,
                frameRate: frameRate,
                bitRate: videoBitRate,
                colorTransfer: video.color_transfer
            ),
            audio: audio
        )
    }

    /// The display matrix gives a counter-clockwise angle (-90 for a phone held upright); older
    /// files carry a `rotate` tag in degrees clockwise. Both become 0/90/180/270 clockwise.
    private static func normalisedRotation(_ stream: Stream) -> Int {
        var degrees = 0.0
        if let matrix = stream.side_data_list?.first(where: { $0.side_data_type == "Display Matrix" }), let rotation = matrix.rotation {
            degrees = -rotation
        } else if let tag = stream.tags?["rotate"], let value = Double(tag) {
            degrees = value
        }
        let quarter = Int((degrees / 90).rounded()) * 90
        return ((quarter % 360) + 360) % 360
    }

    private static func bitDepth(_ stream: Stream) -> Int {
        if let bits = Int(stream.bits_per_raw_sample ?? ""), bits > 0 { return bits }
        let format = stream.pix_fmt ?? ""
        for depth in [16, 14, 12, 10, 9] where format.contains("p\(depth)") { return depth }
        return 8
    }

    /// Parses "30000/1001" or "16:9".
    private static func ratio(_ text: String?) -> Double? {
        guard let text else { return nil }
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == ":" })
        guard parts.count == 2, let numerator = Double(parts[0]), let denominator = Double(parts[1]), denominator != 0 else {
            return nil
        }
        return numerator / denominator
    }
}
