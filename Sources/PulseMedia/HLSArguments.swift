import Foundation

/// One ffmpeg process's share of a unit: a video range for some rungs, the audio, or both.
struct EncodePass: Sendable {
    /// The video range (an audio-only pass reads the whole file).
    var range: MediaRange
    /// Rungs to encode (empty: no video).
    var rungs: [Rung]
    var audio: Bool
    /// Length of the segments in this range (the audio's: the target's).
    var segmentSeconds: Double

    /// Video and audio output folders the pass writes into.
    var renditions: [String] { rungs.map(\.name) + (audio ? [audioRenditionName] : []) }
}

/// Builds the ffmpeg command line for one pass: one decode, a split to every rung, x264 per
/// rung, HLS (MPEG-TS) per rung, and the audio rendition as a second HLS output.
enum HLSArguments {
    /// Every output's timestamps start at this offset plus the range start. A fixed offset larger
    /// than any B-frame or AAC priming delay means no range ever has negative DTS, so ffmpeg never
    /// shifts one range and not another: ranges encoded apart join with continuous timestamps.
    static let timestampBaseSeconds = 10.0

    static func build(
        pass: EncodePass,
        input: MediaInput,
        probe: ProbeResult,
        settings: EncodingSettings,
        staging: String,
        progressPort: Int,
        toneMapLUT: ToneMapLUT.Made? = nil
    ) -> [String] {
        var arguments = [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
        ] + input.inputOptions() + DecodeOptions.arguments(rungs: pass.rungs, source: probe.video)
        if !pass.audio, pass.range.start > 0 {
            arguments += ["-ss", seconds(pass.range.start)]
        }
        arguments += ["-i", input.location]
        arguments += ["-progress", "tcp://127.0.0.1:\(progressPort)", "-stats_period", "0.5"]
        arguments += ["-max_muxing_queue_size", "4096"]

        if !pass.rungs.isEmpty {
            arguments += videoOutput(pass: pass, probe: probe, settings: settings, staging: staging, toneMapLUT: toneMapLUT)
        }
        if pass.audio {
            let end = AudioEnd(probe: probe, segmentSeconds: pass.segmentSeconds)
            arguments += audioOutput(length: end.outputLength, segmentSeconds: pass.segmentSeconds, settings: settings, staging: staging)
        }
        return arguments
    }

    private static func videoOutput(pass: EncodePass, probe: ProbeResult, settings: EncodingSettings, staging: String, toneMapLUT: ToneMapLUT.Made?) -> [String] {
        let rungs = pass.rungs
        var arguments = ["-filter_complex", filterGraph(probe: probe, rungs: rungs, toneMapLUT: toneMapLUT)]
        let keyframe = min(settings.keyframeIntervalSeconds, pass.segmentSeconds)
        for (index, rung) in rungs.enumerated() {
            let stream = "v:\(index)"
            arguments += [
                "-map", "[v\(index)]",
                "-c:\(stream)", "libx264",
                "-preset:\(stream)", settings.preset,
                "-crf:\(stream)", "\(settings.crf)",
                "-refs:\(stream)", "\(settings.referenceFrames)",
                "-maxrate:\(stream)", "\(rung.maxBitRate)",
                "-bufsize:\(stream)", "\(rung.maxBitRate * 2)",
                "-profile:\(stream)", "high",
                "-level:\(stream)", H264Level.level(for: rung).name,
                "-g:\(stream)", "\(Int((rung.frameRate * keyframe * 2).rounded(.up)))",
                "-force_key_frames:\(stream)", "expr:gte(t,n_forced*\(seconds(keyframe)))",
            ]
        }
        // Forced keyframes become IDRs; no scene-cut keyframes, so every rung cuts at the same instants.
        arguments += ["-forced-idr", "1", "-sc_threshold", "0"]
        if ToneMap(probe.video) != nil { arguments += ToneMap.outputTags }
        arguments += hlsMuxer(
            length: pass.range.length(of: probe.duration),
            offset: timestampBaseSeconds + pass.range.start,
            firstSegment: pass.range.firstSegment,
            segmentSeconds: pass.segmentSeconds,
            segmentPattern: "\(staging)/%v/seg_%05d.ts",
            playlist: "\(staging)/%v/index.m3u8"
        )
        let streamMap = rungs.enumerated().map { "v:\($0.offset),name:\($0.element.name)" }.joined(separator: " ")
        // -var_stream_map is an output option of the HLS muxer: insert it before the output path.
        arguments.insert(contentsOf: ["-var_stream_map", streamMap], at: arguments.count - 1)
        return arguments
    }

    private static func audioOutput(length: Double, segmentSeconds: Double, settings: EncodingSettings, staging: String) -> [String] {
        var arguments = [
            "-map", "0:a:0",
            "-c:a", "aac", "-b:a", "\(settings.audioBitRate)", "-ac", "2", "-ar", "48000",
        ]
        arguments += hlsMuxer(
            length: length,
            offset: timestampBaseSeconds,
            firstSegment: 0,
            segmentSeconds: segmentSeconds,
            segmentPattern: "\(staging)/\(audioRenditionName)/seg_%05d.ts",
            playlist: "\(staging)/\(audioRenditionName)/index.m3u8"
        )
        return arguments
    }

    /// Every output ends explicitly, at the measured end for the last range (the audio: at
    /// `AudioEnd`, within a quarter of a second of the measured end): a
    /// source longer than planned is never encoded past the plan. An output `-t` counts from the
    /// range's start (the seek point); an input `-t` would count from the first frame, which in a
    /// stream that starts late (B-frame delay) lets one frame of the next range in.
    /// ffmpeg's own playlist is an EVENT playlist because ffmpeg rewrites it after every segment
    /// (a VOD one only at the end): a segment it lists is final, with its measured duration.
    /// The playlists players read are ours (`PlaylistWriter`).
    private static func hlsMuxer(length: Double, offset: Double, firstSegment: Int, segmentSeconds: Double, segmentPattern: String, playlist: String) -> [String] {
        [
            "-t", seconds(length),
            "-output_ts_offset", seconds(offset), "-muxdelay", "0", "-muxpreload", "0",
            "-f", "hls",
            "-hls_time", seconds(segmentSeconds),
            "-hls_playlist_type", "event",
            "-hls_segment_type", "mpegts",
            "-hls_flags", "independent_segments",
            "-start_number", "\(firstSegment)",
            "-hls_segment_filename", segmentPattern,
            playlist,
        ]
    }

    /// `[0:v:0]` -> (HDR: `ToneMap.chain`, with the LUT `toneMapLUT` when there is one) -> split ->
    /// scale (+fps) -> 8-bit 4:2:0 per rung.
    /// Rotation needs no filter: ffmpeg's autorotate applies the display matrix when decoding.
    static func filterGraph(probe: ProbeResult, rungs: [Rung], toneMapLUT: ToneMapLUT.Made? = nil) -> String {
        var pre = ""
        if let toneMap = ToneMap(probe.video) {
            pre = toneMap.chain(source: probe.video, rungs: rungs, lut: toneMapLUT) + ","
        }
        let labels = rungs.indices.map { "[s\($0)]" }.joined()
        var graph = rungs.count == 1 ? "[0:v:0]\(pre)null[s0]" : "[0:v:0]\(pre)split=\(rungs.count)\(labels)"
        for (index, rung) in rungs.enumerated() {
            var chain = "scale=\(rung.width):\(rung.height):flags=bicubic"
            if rung.halvesFrameRate { chain += ",fps=\(String(format: "%.6f", rung.frameRate))" }
            chain += ",format=yuv420p,setsar=1"
            graph += ";[s\(index)]\(chain)[v\(index)]"
        }
        return graph
    }

    static func seconds(_ value: Double) -> String { String(format: "%.6f", value) }
}
