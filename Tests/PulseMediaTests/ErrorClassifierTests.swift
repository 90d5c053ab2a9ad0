import Foundation
@testable import PulseMedia
import Testing

/// What ffmpeg and ffprobe print (lines taken from real runs of ffmpeg 5.1 against servers that
/// answered so or went away) becomes the right code: missing is permanent, unreachable is an
/// outage, a broken file is malformed, and no message carries the tool's own words.
@Suite struct ErrorClassifierTests {
    func outcome(_ stderr: String, exit: Int32 = 1) -> ToolOutcome {
        ToolOutcome(termination: .exited(exit), stderrTail: stderr, stdout: "")
    }

    @Test func httpAnswersAndNetworkFailures() {
        let cases: [(String, MediaError.Code)] = [
            ("[https @ 0x1] HTTP error 404 Not Found\nhttps://b.example/uploads/x/a.mp4: Server returned 404 Not Found", .sourceNotFound),
            ("https://b.example/a.mp4: Server returned 403 Forbidden (access denied)", .sourceNotFound),
            ("[tcp @ 0x1] Connection to tcp://127.0.0.1:9 failed: Connection refused", .storageUnavailable),
            ("https://b.example/a.mp4: Server returned 5XX Server Error reply", .storageUnavailable),
            ("https://b.example/a.mp4: Server returned 4XX Client Error, but not one of 40{0,1,3,4}", .storageUnavailable),
            ("[http @ 0x1] Stream ends prematurely at 13993984, should be 18859108", .storageUnavailable),
        ]
        for (stderr, code) in cases {
            #expect(FFmpegErrorClassifier.probeFailure(outcome(stderr)).code == code, "\(stderr)")
            #expect(FFmpegErrorClassifier.encodeFailure(outcome(stderr)).code == code, "\(stderr)")
        }
    }

    /// ffmpeg exits 0 when its input breaks mid-read: the encode is an interrupted read.
    @Test func anInputThatBrokeMidReadIsAnOutageEvenWithStatusZero() {
        let broken = outcome("""
            [http @ 0x5591754ef340] Stream ends prematurely at 13993984, should be 18859108
            [h264 @ 0x55917555f480] Invalid NAL unit size (30882 > 18609).
            Error while decoding stream #0:0: Invalid data found when processing input
            """, exit: 0)
        #expect(FFmpegErrorClassifier.interruptedRead(broken)?.code == .storageUnavailable)
        // A local file cut short prints decode errors, nothing about a server: not an outage.
        let cut = outcome("""
            [mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] stream 0, offset 0x9e958e: partial file
            Error while decoding stream #0:0: Invalid data found when processing input
            """, exit: 0)
        #expect(FFmpegErrorClassifier.interruptedRead(cut) == nil)
    }

    /// An output-side error (the scratch folder gone) is not a missing source.
    @Test func aMissingOutputFolderIsNotAMissingSource() {
        let stderr = "[hls @ 0x1] Failed to open file '/work/x/720p/seg_00003.ts': No such file or directory"
        #expect(FFmpegErrorClassifier.encodeFailure(outcome(stderr)).code != .sourceNotFound)
        #expect(FFmpegErrorClassifier.probeFailure(outcome("/data/uploads/x.mp4: No such file or directory")).code == .sourceNotFound)
    }

    @Test func messagesNeverRepeatTheToolsWords() {
        let stderr = "https://bucket.example/uploads/4f0c/private-name.mp4: Invalid data found when processing input"
        for error in [FFmpegErrorClassifier.probeFailure(outcome(stderr)), FFmpegErrorClassifier.encodeFailure(outcome(stderr)),
                      FFmpegErrorClassifier.probeFailure(outcome("something unexpected at file:/srv/data/uploads/4f0c/private-name.mp4"))] {
            #expect(!error.message.contains("private-name") && !error.message.contains("bucket.example"), "\(error)")
        }
    }
}
