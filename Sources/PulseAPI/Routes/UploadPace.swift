import Hummingbird
import NIOCore
import Synchronization

/// The slowest an upload to `/storage/` may arrive and keep its share of the upload allowance:
/// on average `bytesPerSecond` since its body began, less one `window` of grace
/// (`PULSE_UPLOAD_MIN_BYTES_PER_SECOND`). Without it, a client trickling a byte now and then (fast
/// enough for the idle timeout) would hold its reservation, up to the allowance of every upload,
/// for as long as it liked.
///
/// An average, not a count per window: a phone that stalls (a tunnel, a handover) after sending
/// well keeps the lead it made, and so does an upload whose bytes the server itself was too busy
/// to read for a while. It costs an abuser nothing more: holding a reservation for `t` seconds
/// still takes `bytesPerSecond × (t - window)` bytes.
struct UploadPace: Sendable {
    var bytesPerSecond: Int64
    var window: Duration

    /// The fewest bytes an upload may have brought `elapsed` after its body began.
    func bytesDue(after elapsed: Duration) -> Int64 {
        let owed = elapsed - window
        guard owed > .zero else { return 0 }
        let (seconds, attoseconds) = owed.components
        return Int64((Double(seconds) + Double(attoseconds) / 1e18) * Double(bytesPerSecond))
    }

    /// Runs `receive`, which counts what arrives into its `UploadProgress`, and cuts it off
    /// (cancels it and throws `400 ERR_INVALID_REQUEST`) at the first check, one a window, that
    /// finds it behind `bytesDue`.
    func enforce(_ receive: @escaping @Sendable (UploadProgress) async throws -> Int64) async throws -> Int64 {
        let progress = UploadProgress()
        return try await withThrowingTaskGroup(of: Int64?.self) { group in
            group.addTask { try await receive(progress) }
            group.addTask {
                try await watch(progress)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let received = result { return received }
            }
            return progress.bytes
        }
    }

    /// Returns only when cancelled (by throwing); throws the cut-off once the upload falls behind.
    private func watch(_ progress: UploadProgress) async throws {
        let clock = ContinuousClock()
        let began = clock.now
        while true {
            try await Task.sleep(for: window)
            guard progress.bytes >= bytesDue(after: clock.now - began) else {
                throw APIError(.invalidRequest, "the upload arrived slower than \(bytesPerSecond) bytes per second; send it again")
            }
        }
    }
}

/// The bytes of one upload received so far, shared with its ``UploadPace`` watch.
final class UploadProgress: Sendable {
    private let received = Atomic<Int64>(0)

    var bytes: Int64 { received.load(ordering: .relaxed) }

    func add(_ count: Int) { received.add(Int64(count), ordering: .relaxed) }
}

extension RequestBody.AsyncIterator {
    /// The next buffer of an upload's body, nil at its end; a body that breaks off is the client's
    /// doing (it went away, or broke the framing), answered `400 ERR_INVALID_REQUEST`.
    mutating func nextUploadBuffer() async throws -> ByteBuffer? {
        do {
            return try await next()
        } catch {
            throw APIError(.invalidRequest, "the upload was cut off before its end")
        }
    }
}
