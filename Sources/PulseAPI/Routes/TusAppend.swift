import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFileSystem
import PulseJobs
import PulseStorage
import Synchronization

/// One PATCH of a tus upload: its bytes appended at the stored offset, cut into the upload's
/// parts (every part the plan's `part_size`, the last the rest: S3's 5 MiB minimum holds).
///
/// The part the offset falls in is rebuilt in a file of the incoming folder: the bytes received
/// before (the part's pending object in storage, `StorageKeys.tusPending`, read up to the offset),
/// then the body's. A part that fills is sent to the store's multipart upload at once and the
/// offset recorded; what is left at the end of the body, less than a part, is stored as the
/// part's pending object and the offset recorded. So between PATCHes nothing waits on one
/// process's disk, and the next PATCH may reach any `serve`.
///
/// The offset is recorded only after the bytes are in the store, and only from the value it had
/// (`TusUploads.advance`): a crash in between leaves bytes past the offset, which the next PATCH
/// overwrites (a part number is its byte range; a pending object is read only up to the offset).
/// A body cut off, too slow (`UploadPace`) or running past `Upload-Length` keeps what arrived
/// before; the refusal follows.
struct TusAppend: Sendable {
    let store: any ObjectStore
    let uploads: TusUploads
    let upload: MultipartUpload
    /// The upload's object.
    let key: String
    /// The lease holder (`TusUploads.lock`).
    let owner: String
    /// Where the part being filled is kept while the body arrives.
    let directory: String
    let logger: Logger

    /// Where the PATCH stands: the part being filled, its bytes in `path`, and the offset recorded.
    private struct Position: Sendable {
        var part: Int
        var filled: Int64
        var recorded: Int64
        var path: String
    }

    /// The position, shared by the body's task and what follows it.
    private final class Cursor: Sendable {
        private let position: Mutex<Position>
        init(_ position: Position) { self.position = Mutex(position) }
        func withLock<T: Sendable>(_ body: (inout Position) -> T) -> T { position.withLock { body(&$0) } }
    }

    /// Appends `body` at `offset` (the stored offset, under the lease) and returns the offset
    /// recorded afterwards.
    func append(_ body: RequestBody, at offset: Int64, pace: UploadPace) async throws -> Int64 {
        let plan = upload.plan
        let limit = plan.size - offset
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let part = Int(offset / plan.partSize) + 1
        let cursor = Cursor(Position(part: part, filled: offset - start(of: part), recorded: offset, path: newPath()))
        defer { try? FileManager.default.removeItem(atPath: cursor.withLock { $0.path }) }
        if limit > 0 {
            try await loadPending(cursor.withLock { $0 })
        }
        var failure: (any Error)?
        do {
            _ = try await pace.enforce { progress in try await receive(body, limit: limit, cursor: cursor, progress: progress) }
        } catch {
            failure = error
        }
        // What arrived is kept, whatever ended the body.
        try await persist(cursor)
        if let failure { throw failure }
        return cursor.withLock { $0.recorded }
    }

    // MARK: - Receiving

    /// Reads the body into the part files: each part's file is opened once and written through
    /// that one handle while the part fills (as `StorageRoutes` writes a PUT), and a full part is
    /// sent once its handle is closed.
    private func receive(_ body: RequestBody, limit: Int64, cursor: Cursor, progress: UploadProgress) async throws -> Int64 {
        var received: Int64 = 0
        var buffers = body.makeAsyncIterator()
        // What is left of a buffer that filled a part: the next part's first bytes.
        var carried: ByteBuffer?
        var ended = false
        while !ended {
            let path = cursor.withLock { $0.path }
            let full = try await FileSystem.shared.withFileHandle(
                forWritingAt: FilePath(path), options: .modifyFile(createIfNecessary: true)
            ) { handle -> Bool in
                while true {
                    var buffer: ByteBuffer
                    if let rest = carried {
                        buffer = rest
                        carried = nil
                    } else {
                        guard let next = try await buffers.nextUploadBuffer() else {
                            ended = true
                            return false
                        }
                        progress.add(next.readableBytes)
                        guard received + Int64(next.readableBytes) <= limit else {
                            throw APIError(.uploadTooLarge, "the bytes go past the upload's Upload-Length \(upload.plan.size)")
                        }
                        received += Int64(next.readableBytes)
                        buffer = next
                    }
                    let now = cursor.withLock { $0 }
                    let room = length(of: now.part) - now.filled
                    let slice = buffer.readSlice(length: Int(min(room, Int64(buffer.readableBytes))))!
                    try await handle.write(contentsOf: slice, toAbsoluteOffset: now.filled)
                    if buffer.readableBytes > 0 { carried = buffer }
                    let filled = cursor.withLock { state in
                        state.filled += Int64(slice.readableBytes)
                        return state.filled == length(of: state.part)
                    }
                    if filled { return true }
                }
            }
            if full { try await sendPart(cursor) }
        }
        return received
    }

    // MARK: - Storing

    /// The part's bytes received by earlier PATCHes, read from its pending object into the part's file.
    private func loadPending(_ state: Position) async throws {
        guard state.filled > 0 else { return }
        let pending = StorageKeys.tusPending(upload.assetID, part: state.part)
        let chunks = try await store.get(key: pending, range: 0...(state.filled - 1))
        let written = try await FileSystem.shared.withFileHandle(
            forWritingAt: FilePath(state.path), options: .modifyFile(createIfNecessary: true)
        ) { handle -> Int64 in
            var written: Int64 = 0
            for try await chunk in chunks {
                try await handle.write(contentsOf: chunk, toAbsoluteOffset: written)
                written += Int64(chunk.readableBytes)
            }
            return written
        }
        guard written == state.filled else {
            throw StorageError(.badResponse, "the pending bytes of part \(state.part) are \(written), not \(state.filled)", key: pending)
        }
    }

    /// Sends the full part in the cursor's file to the store, records the offset at its end, and
    /// moves the cursor to the next part.
    private func sendPart(_ cursor: Cursor) async throws {
        let state = cursor.withLock { $0 }
        _ = try await store.uploadPart(fileAt: state.path, key: key, uploadID: upload.uploadID, partNumber: state.part)
        try? FileManager.default.removeItem(atPath: state.path)
        let end = start(of: state.part) + length(of: state.part)
        try await record(from: state.recorded, to: end)
        let next = newPath()
        cursor.withLock { $0 = Position(part: state.part + 1, filled: 0, recorded: end, path: next) }
        // The part is stored: its pending bytes are not needed any more.
        try? await store.delete(key: StorageKeys.tusPending(upload.assetID, part: state.part))
        logger.debug("tus part stored", metadata: ["asset.id": "\(upload.assetID)", "upload.part": "\(state.part)"])
    }

    /// After the body: a full part not sent yet is sent; bytes past the recorded offset become
    /// the part's pending object.
    private func persist(_ cursor: Cursor) async throws {
        let state = cursor.withLock { $0 }
        let start = start(of: state.part)
        guard state.filled > 0, start + state.filled > state.recorded else { return }
        if state.filled == length(of: state.part) {
            try await sendPart(cursor)
            return
        }
        // A write cut short may have left more than was counted.
        guard truncate(state.path, off_t(state.filled)) == 0 else {
            throw StorageError(.io, "cannot trim the pending bytes", key: key)
        }
        try await store.put(
            fileAt: state.path, key: StorageKeys.tusPending(upload.assetID, part: state.part), contentType: nil, mode: .move)
        try await record(from: state.recorded, to: start + state.filled)
        cursor.withLock { $0.recorded = start + state.filled }
    }

    private func record(from: Int64, to: Int64) async throws {
        guard try await uploads.advance(upload.assetID, owner: owner, from: from, to: to) else {
            throw APIError(.conflict, "another PATCH took this upload over; HEAD it and resume from its offset")
        }
    }

    /// Where part `part` starts in the object (the offset after the last part, for the one past it).
    private func start(of part: Int) -> Int64 { Int64(part - 1) * upload.plan.partSize }

    /// Part `part`'s length (0 past the last part: an upload whose every byte is stored).
    private func length(of part: Int) -> Int64 { max(0, min(upload.plan.partSize, upload.plan.size - start(of: part))) }

    private func newPath() -> String {
        "\(directory)/\(UUID().uuidString.lowercased()).tus"
    }
}
