import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import PulseSupport
import PulseTestSupport
import Testing

@testable import PulseStorage

/// Multipart uploads a client drives, on both stores with the same rules: parts stored
/// and listed with their MD5 ETags and sizes, a wrong ETag or a small middle part refused, the
/// object assembled in order, and an abort leaving nothing.
@Suite("Multipart uploads")
struct MultipartUploadTests {
    /// Parts of 5 MiB, 5 MiB and 1000 bytes of random data; their concatenation; their MD5s.
    struct Parts {
        let bytes: [[UInt8]]
        var whole: [UInt8] { bytes.flatMap { $0 } }
        var md5s: [String] { bytes.map { Hex.encode(Insecure.MD5.hash(data: $0)) } }

        static func make() -> Parts {
            var generator = SystemRandomNumberGenerator()
            func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
            return Parts(bytes: [random(5 << 20), random(5 << 20), random(1000)])
        }

        /// Each part written to its own file (the local door hands the store a file).
        func files(in folder: String) throws -> [String] {
            try bytes.enumerated().map { index, part in
                let path = "\(folder)/part\(index + 1)"
                try Data(part).write(to: URL(fileURLWithPath: path))
                return path
            }
        }
    }

    @Test("local store: parts stored, listed, replaced, checked, assembled atomically; abort removes them")
    func local() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try LocalStore(root: folder + "/store", urlSigner: try LocalURLSigner(secret: Array(repeating: 7, count: 32), baseURL: "http://h/storage"))
        let parts = Parts.make()
        let key = "uploads/abc/clip.mp4"
        let uploadID = try await store.createMultipartUpload(key: key, contentType: "video/mp4")
        #expect(LocalStore.isUploadID(uploadID))

        // Half the parts; a source file is taken by rename, as the door's temporary file is.
        var files = try parts.files(in: folder)
        let first = try await store.uploadPart(fileAt: files[0], key: key, uploadID: uploadID, partNumber: 1)
        #expect(first == parts.md5s[0])
        #expect(!FileManager.default.fileExists(atPath: files[0]))
        #expect(try await store.listParts(key: key, uploadID: uploadID) == [UploadedPart(partNumber: 1, etag: parts.md5s[0], size: 5 << 20)])
        // The upload belongs to its key, and ids are ours only.
        await expectStorageError(.notFound) { _ = try await store.listParts(key: "uploads/abc/other.mp4", uploadID: uploadID) }
        await expectStorageError(.notFound) { _ = try await store.listParts(key: key, uploadID: "../../etc") }

        // Part 2 sent first with the wrong bytes, then again right: the second replaces the first.
        files = try parts.files(in: folder)
        try Data(parts.bytes[2]).write(to: URL(fileURLWithPath: files[1]))
        _ = try await store.uploadPart(fileAt: files[1], key: key, uploadID: uploadID, partNumber: 2)
        files = try parts.files(in: folder)
        #expect(try await store.uploadPart(fileAt: files[1], key: key, uploadID: uploadID, partNumber: 2) == parts.md5s[1])
        #expect(try await store.uploadPart(fileAt: files[2], key: key, uploadID: uploadID, partNumber: 3) == parts.md5s[2])
        let listed = try await store.listParts(key: key, uploadID: uploadID)
        #expect(listed.map(\.partNumber) == [1, 2, 3])
        #expect(listed.map(\.etag) == parts.md5s)
        #expect(listed.map(\.size) == [5 << 20, 5 << 20, 1000])

        // A wrong ETag, parts out of order, a small part in the middle: refused, nothing stored.
        let wrong = [CompletedPart(partNumber: 1, etag: parts.md5s[0]), CompletedPart(partNumber: 2, etag: parts.md5s[2]),
                     CompletedPart(partNumber: 3, etag: parts.md5s[2])]
        await expectStorageError(.invalidArgument, server: "InvalidPart") { try await store.completeMultipartUpload(key: key, uploadID: uploadID, parts: wrong) }
        let disordered = [CompletedPart(partNumber: 2, etag: parts.md5s[1]), CompletedPart(partNumber: 1, etag: parts.md5s[0])]
        await expectStorageError(.invalidArgument, server: "InvalidPartOrder") { try await store.completeMultipartUpload(key: key, uploadID: uploadID, parts: disordered) }
        #expect(try await store.head(key: key) == nil)

        // Quoted ETags, as S3 answers them, are accepted.
        let right = parts.md5s.enumerated().map { CompletedPart(partNumber: $0.offset + 1, etag: "\"\($0.element)\"") }
        try await store.completeMultipartUpload(key: key, uploadID: uploadID, parts: right)
        #expect(try await collect(store.get(key: key)) == parts.whole)
        // Finished: the upload is gone, its parts with it; aborting it now is no error.
        await expectStorageError(.notFound) { _ = try await store.listParts(key: key, uploadID: uploadID) }
        try await store.abortMultipartUpload(key: key, uploadID: uploadID)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/store/.staging/multipart").isEmpty)

        // EntityTooSmall: a part under 5 MiB that is not the last.
        let other = try await store.createMultipartUpload(key: "uploads/abc/b.mp4", contentType: nil)
        files = try parts.files(in: folder)
        _ = try await store.uploadPart(fileAt: files[2], key: "uploads/abc/b.mp4", uploadID: other, partNumber: 1)
        _ = try await store.uploadPart(fileAt: files[0], key: "uploads/abc/b.mp4", uploadID: other, partNumber: 2)
        await expectStorageError(.invalidArgument, server: "EntityTooSmall") {
            try await store.completeMultipartUpload(key: "uploads/abc/b.mp4", uploadID: other,
                                                    parts: [CompletedPart(partNumber: 1, etag: parts.md5s[2]), CompletedPart(partNumber: 2, etag: parts.md5s[0])])
        }
        // Abort: the parts are gone, and the upload with them.
        try await store.abortMultipartUpload(key: "uploads/abc/b.mp4", uploadID: other)
        await expectStorageError(.notFound) { _ = try await store.listParts(key: "uploads/abc/b.mp4", uploadID: other) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/store/.staging/multipart").isEmpty)
        #expect(try await store.list(prefix: "").map(\.key) == [key])

        // A part URL signs its part and upload: not usable as the whole object's URL.
        let url = try await store.presignedUploadPartURL(key: key, uploadID: other, partNumber: 4, expiresIn: .seconds(60))
        #expect(url.hasPrefix("http://h/storage/uploads/abc/clip.mp4?part=4&upload=\(other)&expires="))
    }

    @Test("S3 (moto): parts PUT through presigned UploadPart URLs, listed page by page, checked, completed; abort", .enabled(if: TestServices.shouldRun("PULSE_TEST_S3_ENDPOINT")))
    func s3() async throws {
        var configuration = testConfiguration(endpoint: try TestServices.plainEndpoint)
        configuration.listPageSize = 2  // three parts: two pages of ListParts
        let store = try S3Store(bucket: uniqueBucket("mpu"), prefix: "root/", configuration: configuration)
        try await store.createBucket()
        let parts = Parts.make()
        let key = "uploads/abc/clip (1).mp4"
        let uploadID = try await store.createMultipartUpload(key: key, contentType: "video/mp4")

        // As a browser would: a plain PUT of the bytes to each presigned URL, the ETag from the answer.
        var etags: [String] = []
        for (index, part) in parts.bytes.enumerated() {
            let url = try await store.presignedUploadPartURL(key: key, uploadID: uploadID, partNumber: index + 1, expiresIn: .seconds(300))
            #expect(url.contains("partNumber=\(index + 1)") && url.contains("X-Amz-Signature="))
            var request = HTTPClientRequest(url: url)
            request.method = .PUT
            request.body = .bytes(ByteBuffer(bytes: part))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            #expect(response.status == .ok)
            let etag = try #require(response.headers.first(name: "etag"))
            #expect(MultipartLimits.unquote(etag) == parts.md5s[index])
            etags.append(etag)
            if index == 0 {
                #expect(try await store.listParts(key: key, uploadID: uploadID) == [UploadedPart(partNumber: 1, etag: parts.md5s[0], size: 5 << 20)])
            }
        }
        let listed = try await store.listParts(key: key, uploadID: uploadID)
        #expect(listed.map(\.partNumber) == [1, 2, 3])
        #expect(listed.map(\.etag) == parts.md5s)
        #expect(listed.map(\.size) == [5 << 20, 5 << 20, 1000])

        // A wrong ETag: S3 refuses (moto answers InvalidPart), nothing is stored.
        let wrong = [CompletedPart(partNumber: 1, etag: parts.md5s[0]), CompletedPart(partNumber: 2, etag: parts.md5s[2]),
                     CompletedPart(partNumber: 3, etag: parts.md5s[2])]
        await expectStorageError(.invalidArgument) { try await store.completeMultipartUpload(key: key, uploadID: uploadID, parts: wrong) }
        #expect(try await store.head(key: key) == nil)

        try await store.completeMultipartUpload(
            key: key, uploadID: uploadID, parts: etags.enumerated().map { CompletedPart(partNumber: $0.offset + 1, etag: $0.element) })
        #expect(try await collect(store.get(key: key)) == parts.whole)
        #expect(try await store.head(key: key)?.etag?.hasSuffix("-3") == true)
        try await store.abortMultipartUpload(key: key, uploadID: uploadID)  // finished: no error

        // The server-side part upload, then abort: the upload and its parts are gone.
        let other = try await store.createMultipartUpload(key: "uploads/abc/b.mp4", contentType: nil)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try parts.files(in: folder)
        #expect(try await store.uploadPart(fileAt: files[0], key: "uploads/abc/b.mp4", uploadID: other, partNumber: 1) == parts.md5s[0])
        try await store.abortMultipartUpload(key: "uploads/abc/b.mp4", uploadID: other)
        await expectStorageError(.notFound) { _ = try await store.listParts(key: "uploads/abc/b.mp4", uploadID: other) }
        #expect(try await store.list(prefix: "").map(\.key) == [key])
    }

    @Test("part plans: 16 MiB parts, raised to keep within 10,000 parts, never under 5 MiB")
    func plans() throws {
        let small = try PartPlan(size: 1000, preferredPartSize: 16 << 20)
        #expect(small.partCount == 1 && small.length(ofPart: 1) == 1000)
        let plan = try PartPlan(size: (40 << 20) + 3, preferredPartSize: 16 << 20)
        #expect(plan.partCount == 3)
        #expect(plan.range(ofPart: 3) == Int64(33_554_432)..<Int64(41_943_043))
        #expect(plan.length(ofPart: 1) == 16 << 20 && plan.length(ofPart: 3) == (8 << 20) + 3)
        #expect(try PartPlan(size: 100 << 20, preferredPartSize: 1).partSize == 5 << 20)
        let huge = try PartPlan(size: 200 << 30, preferredPartSize: 16 << 20)
        #expect(huge.partCount <= 10_000 && huge.partSize % (1 << 20) == 0 && huge.partSize > 16 << 20)
        #expect(throws: StorageError.self) { try PartPlan(size: 0, preferredPartSize: 16 << 20) }
    }
}

/// Runs `body` and expects a `StorageError` with `code` (and `server` code, when given).
func expectStorageError(_ code: StorageError.Code, server: String? = nil, _ body: () async throws -> Void,
                        sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await body()
        Issue.record("no error; expected \(code)", sourceLocation: sourceLocation)
    } catch let error as StorageError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let server { #expect(error.serverCode == server, "\(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected a StorageError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
