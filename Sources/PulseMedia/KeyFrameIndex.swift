import Foundation

/// One key frame inside an MPEG-TS segment: the bytes an I-frame playlist's `EXT-X-BYTERANGE`
/// names, from the PAT and PMT that ffmpeg writes just before each key frame to the end of that
/// frame's PES packet, so the range alone decodes to one picture.
public struct KeyFrameRange: Codable, Sendable, Equatable {
    /// Offset of the first byte in the segment file.
    public var offset: Int64
    /// Number of bytes.
    public var length: Int64
    /// Presentation time in seconds (the PES PTS), for the spacing between key frames.
    public var time: Double

    public init(offset: Int64, length: Int64, time: Double) {
        self.offset = offset
        self.length = length
        self.time = time
    }
}

/// Finds the key frames of a finished segment by reading its transport stream packets: the video
/// elementary stream named by the PMT, each PES start whose adaptation field sets the random
/// access indicator (the MPEG-TS muxer sets it on key frames). Nothing is decoded or encoded:
/// I-frame playlists come from the segments the ladder already wrote.
enum KeyFrameIndex {
    static let packetSize = 188
    /// Stream types of video in a PMT: H.264, HEVC, MPEG-2.
    static let videoStreamTypes: Set<UInt8> = [0x1B, 0x24, 0x02]

    /// The key frames of the segment at `path`, in order; empty when it has no video.
    static func keyFrames(ofFileAt path: String) -> [KeyFrameRange] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return keyFrames(in: [UInt8](data))
    }

    static func keyFrames(in bytes: [UInt8]) -> [KeyFrameRange] {
        var pmtPID: Int?
        var videoPID: Int?
        /// Offsets of the PSI packets (PAT, PMT) right before the current packet.
        var psiRun: [Int] = []
        var starts: [(offset: Int, time: Double, isKey: Bool)] = []
        var offset = 0
        while offset + packetSize <= bytes.count {
            defer { offset += packetSize }
            guard bytes[offset] == 0x47 else { continue }
            let pid = Int(bytes[offset + 1] & 0x1F) << 8 | Int(bytes[offset + 2])
            let unitStart = bytes[offset + 1] & 0x40 != 0
            let adaptation = (bytes[offset + 3] >> 4) & 0x3
            var payload = offset + 4
            var randomAccess = false
            if adaptation & 0x2 != 0 {
                let fieldLength = Int(bytes[offset + 4])
                if fieldLength > 0 { randomAccess = bytes[offset + 5] & 0x40 != 0 }
                payload += 1 + fieldLength
            }
            guard adaptation & 0x1 != 0, payload < offset + packetSize else { continue }
            if pid == 0 || pid == pmtPID {
                if unitStart { psiRun.append(offset) }
                if pid == 0, unitStart { pmtPID = pmtPID ?? programMapPID(bytes, payload: payload, end: offset + packetSize) }
                if pid == pmtPID, unitStart { videoPID = videoPID ?? videoStreamPID(bytes, payload: payload, end: offset + packetSize) }
                continue
            }
            guard pid == videoPID, unitStart else {
                psiRun.removeAll()
                continue
            }
            let time = presentationTime(bytes, pes: payload, end: offset + packetSize) ?? starts.last?.time ?? 0
            // The PSI packets written right before this frame belong to its range.
            let first = psiRun.first ?? offset
            starts.append((first, time, randomAccess))
            psiRun.removeAll()
        }
        var frames: [KeyFrameRange] = []
        for (index, start) in starts.enumerated() where start.isKey {
            let end = index + 1 < starts.count ? starts[index + 1].offset : bytes.count - bytes.count % packetSize
            frames.append(KeyFrameRange(offset: Int64(start.offset), length: Int64(end - start.offset), time: start.time))
        }
        return frames
    }

    /// The first program's PMT PID in a PAT section.
    private static func programMapPID(_ bytes: [UInt8], payload: Int, end: Int) -> Int? {
        let section = payload + 1 + Int(bytes[payload])
        guard section + 8 <= end else { return nil }
        let sectionLength = Int(bytes[section + 1] & 0x0F) << 8 | Int(bytes[section + 2])
        var entry = section + 8
        let entriesEnd = min(end, section + 3 + sectionLength - 4)
        while entry + 4 <= entriesEnd {
            let program = Int(bytes[entry]) << 8 | Int(bytes[entry + 1])
            let pid = Int(bytes[entry + 2] & 0x1F) << 8 | Int(bytes[entry + 3])
            if program != 0 { return pid }
            entry += 4
        }
        return nil
    }

    /// The first video elementary stream's PID in a PMT section.
    private static func videoStreamPID(_ bytes: [UInt8], payload: Int, end: Int) -> Int? {
        let section = payload + 1 + Int(bytes[payload])
        guard section + 12 <= end else { return nil }
        let sectionLength = Int(bytes[section + 1] & 0x0F) << 8 | Int(bytes[section + 2])
        let programInfoLength = Int(bytes[section + 10] & 0x0F) << 8 | Int(bytes[section + 11])
        var entry = section + 12 + programInfoLength
        let entriesEnd = min(end, section + 3 + sectionLength - 4)
        while entry + 5 <= entriesEnd {
            let type = bytes[entry]
            let pid = Int(bytes[entry + 1] & 0x1F) << 8 | Int(bytes[entry + 2])
            if videoStreamTypes.contains(type) { return pid }
            entry += 5 + (Int(bytes[entry + 3] & 0x0F) << 8 | Int(bytes[entry + 4]))
        }
        return nil
    }

    /// The PTS of the PES packet starting at `pes`, in seconds.
    private static func presentationTime(_ bytes: [UInt8], pes: Int, end: Int) -> Double? {
        guard pes + 14 <= end, bytes[pes] == 0, bytes[pes + 1] == 0, bytes[pes + 2] == 1, bytes[pes + 7] & 0x80 != 0 else { return nil }
        let p = pes + 9
        var pts = Int64(bytes[p] >> 1 & 0x07) << 30
        pts |= Int64(bytes[p + 1]) << 22 | Int64(bytes[p + 2] >> 1) << 15
        pts |= Int64(bytes[p + 3]) << 7 | Int64(bytes[p + 4] >> 1)
        return Double(pts) / 90000
    }
}
