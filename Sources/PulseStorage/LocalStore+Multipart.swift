import Crypto
import Foundation
import NIOCore
import NIOFileSystem
import PulseSupport

/// The local store's multipart uploads, kept to S3's rules (part numbers 1...10000, every part but
/// the last at least 5 MiB, ETags the MD5 of the part in hex) so a client cannot tell the stores
/// apart.
///
/// An upload is a folder in the reserved staging area, `ROOT/.staging/multipart/{upload id}/`
/// (never listed, never reachable by a key), holding `key` (the object it is for: every call must
/// name the same key) and one file per part, `{number:05}.{md5 hex}`: the part and its ETag are
/// renamed into place together, so a listing never sees one without the other. Completing
/// concatenates the named parts in order into a staging file that is renamed into place (a reader
/// sees no object or the whole one), then removes the folder.
extension LocalStore {
    /// The signed query of a part's URL on `/storage/`: `part` and `upload`.
    public static func partQuery(uploadID: String, partNumber: Int) -> [String: String] {
        ["part": String(partNumber), "upload": uploadID]
    }

    public func createMultipartUpload(key: String, contentType: String?) async throws -> String {
        try ObjectKey.validate(key)
        let uploadID = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        let folder = uploadFolder(uploadID)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(key.utf8).write(to: URL(fileURLWithPath: folder + "/key"), options: .atomic)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw StorageError(.io, "cannot start a multipart upload: \(error)", key: key)
        }
        return uploadID
    }

    public func uploadPart(fileAt path: String, key: String, uploadID: String, partNumber: Int) async throws -> String {
        let folder = try existingUpload(uploadID, key: key)
        try S3Store.checkPartNumber(partNumber, key: key)
        let etag = try await Self.md5Hex(ofFileAt: path, key: key)
        // Into the folder under a temporary name (a copy when the source is on another file
        // system), then renamed to its final name: part and ETag arrive together.
        let temporary = "\(folder)/tmp-\(UUID().uuidString)"
        var code = Self.renameIntoPlace(path, temporary)
        if code == EXDEV {
            do {
                try await FileSystem.shared.copyItem(at: FilePath(path), to: FilePath(temporary))
                code = 0
            } catch {
                throw StorageError(.io, "cannot copy the part: \(error)", key: key)
            }
        }
        guard code == 0 else { throw Self.posixError(code, "cannot store the part", key: key) }
        let name = Self.partFileName(partNumber, etag)
        code = Self.renameIntoPlace(temporary, "\(folder)/\(name)")
        guard code == 0 else {
            unlink(temporary)
            throw Self.posixError(code, "cannot store the part", key: key)
        }
        // A part sent again replaces the earlier one, whatever its ETag.
        for other in partFiles(in: folder) where other.number == partNumber && other.name != name {
            unlink("\(folder)/\(other.name)")
        }
        logger.debug("part stored", metadata: ["storage.key": "\(key)", "storage.part": "\(partNumber)"])
        return etag
    }

    public func presignedUploadPartURL(key: String, uploadID: String, partNumber: Int, expiresIn: Duration) async throws -> String {
        try ObjectKey.validate(key)
        try S3Store.checkPartNumber(partNumber, key: key)
        guard Self.isUploadID(uploadID) else { throw StorageError(.notFound, "no such upload", key: key, serverCode: "NoSuchUpload") }
        guard let urlSigner else { throw StorageError(.unsupported, "this local store has no URL signer", key: key) }
        guard expiresIn > .zero else { throw StorageError(.invalidArgument, "expiry must be positive", key: key) }
        return urlSigner.url(method: "PUT", key: key, expiresIn: expiresIn, now: now(),
                             query: Self.partQuery(uploadID: uploadID, partNumber: partNumber))
    }

    public func listParts(key: String, uploadID: String) async throws -> [UploadedPart] {
        let folder = try existingUpload(uploadID, key: key)
        // Sorted by number; should a part have two files (two uploads of it racing), the last named wins.
        var byNumber: [Int: UploadedPart] = [:]
        for file in partFiles(in: folder) {
            let size = ((try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(file.name)"))?[.size] as? NSNumber)?.int64Value ?? 0
            byNumber[file.number] = UploadedPart(partNumber: file.number, etag: file.etag, size: size)
        }
        return byNumber.values.sorted { $0.partNumber < $1.partNumber }
    }

    public func completeMultipartUpload(key: String, uploadID: String, parts: [CompletedPart]) async throws {
        let folder = try existingUpload(uploadID, key: key)
        guard !parts.isEmpty else {
            throw StorageError(.invalidArgument, "no parts named", key: key, serverCode: "MalformedXML")
        }
        var paths: [String] = []
        var previous = 0
        for (index, part) in parts.enumerated() {
            guard part.partNumber > previous else {
                throw StorageError(.invalidArgument, "parts must be named in ascending order", key: key, serverCode: "InvalidPartOrder")
            }
            previous = part.partNumber
            let path = "\(folder)/\(Self.partFileName(part.partNumber, part.bareETag.lowercased()))"
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
                throw StorageError(.invalidArgument, "part \(part.partNumber) was not uploaded with that ETag", key: key, serverCode: "InvalidPart")
            }
            if index < parts.count - 1 && size.int64Value < MultipartLimits.minPartSize {
                throw StorageError(.invalidArgument, "part \(part.partNumber) is smaller than 5 MiB and not the last", key: key,
                                   serverCode: "EntityTooSmall")
            }
            paths.append(path)
        }
        let destination = try prepareParent(of: key)
        let staging = stagingPath()
        do {
            try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(staging), options: .newFile(replaceExisting: false)) { output in
                var offset: Int64 = 0
                for path in paths {
                    for try await chunk in LocalFileChunks(path: path, range: 0..<Self.fileSize(path), chunkSize: Self.chunkSize) {
                        try await output.write(contentsOf: chunk, toAbsoluteOffset: offset)
                        offset += Int64(chunk.readableBytes)
                    }
                }
            }
        } catch {
            unlink(staging)
            throw StorageError(.io, "cannot assemble the parts: \(error)", key: key)
        }
        try commit(staging, to: destination, key: key)
        try? FileManager.default.removeItem(atPath: folder)
        logger.debug("multipart upload completed", metadata: ["storage.key": "\(key)", "storage.parts": "\(parts.count)"])
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        let folder: String
        do {
            folder = try existingUpload(uploadID, key: key)
        } catch let error as StorageError where error.code == .notFound {
            return
        }
        // A part landing while the folder is removed makes the removal fail ("not empty"): go
        // again; a part arriving after it finds no folder and is refused.
        for attempt in 1...5 {
            do {
                try FileManager.default.removeItem(atPath: folder)
                break
            } catch {
                guard FileManager.default.fileExists(atPath: folder) else { break }
                if attempt == 5 { throw StorageError(.io, "cannot remove the upload's parts: \(error)", key: key) }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        logger.info("multipart upload aborted", metadata: ["storage.key": "\(key)"])
    }

    // MARK: helpers

    private func uploadFolder(_ uploadID: String) -> String {
        "\(root)/\(ObjectKey.stagingSegment)/multipart/\(uploadID)"
    }

    /// The upload's folder, when `uploadID` is one of ours and was started for `key`; otherwise
    /// `notFound` (`NoSuchUpload`), as S3 answers.
    private func existingUpload(_ uploadID: String, key: String) throws -> String {
        try ObjectKey.validate(key)
        let folder = uploadFolder(uploadID)
        guard Self.isUploadID(uploadID), let recorded = FileManager.default.contents(atPath: folder + "/key"),
              String(decoding: recorded, as: UTF8.self) == key
        else { throw StorageError(.notFound, "no such upload", key: key, serverCode: "NoSuchUpload") }
        return folder
    }

    /// 32 lowercase hex digits, as `createMultipartUpload` makes them (never a path).
    static func isUploadID(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func partFileName(_ number: Int, _ etag: String) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits + "." + etag
    }

    private func partFiles(in folder: String) -> [(name: String, number: Int, etag: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted().compactMap { name in
            let pieces = name.split(separator: ".", maxSplits: 1)
            guard pieces.count == 2, pieces[0].count == 5, let number = Int(pieces[0]), Self.isMD5Hex(pieces[1]) else { return nil }
            return (name, number, String(pieces[1]))
        }
    }

    private static func isMD5Hex(_ text: Substring) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// S3's part ETag: the MD5 of its bytes, in lowercase hex.
    private static func md5Hex(ofFileAt path: String, key: String) async throws -> String {
        var hasher = Insecure.MD5()
        do {
            for try await chunk in LocalFileChunks(path: path, range: 0..<fileSize(path), chunkSize: chunkSize) {
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
        } catch {
            throw StorageError(.notFound, "no such source file \(path)", key: key)
        }
        return Hex.encode(hasher.finalize())
    }
}
