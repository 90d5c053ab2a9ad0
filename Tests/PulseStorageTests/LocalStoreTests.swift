import Foundation
import NIOCore
import Testing

@testable import PulseStorage

@Suite("LocalStore")
struct LocalStoreTests {
    @Test(
        "keys that could escape the folder or are malformed are rejected",
        arguments: [
            "", "/etc/passwd", "../x", "a/../../x", "a/..", "./a", "a/./b", "a//b", "a/", "a\\b",
            "nul\u{0}byte", "line\nfeed", ".staging/x", String(repeating: "k", count: 1025),
        ]
    )
    func rejectsBadKeys(key: String) async throws {
        let store = try LocalStore(root: try temporaryFolder())
        for operation in 0..<4 {
            do {
                switch operation {
                case 0: try await store.put(ByteBuffer(string: "x"), key: key)
                case 1: _ = try await store.get(key: key)
                case 2: _ = try await store.head(key: key)
                default: try await store.delete(key: key)
                }
                Issue.record("operation \(operation) accepted \(key.debugDescription)")
            } catch let error as StorageError {
                #expect(error.code == .invalidKey)
            }
        }
    }

    @Test("awkward keys round-trip, head, list in order, delete")
    func roundTrip() async throws {
        let store = try LocalStore(root: try temporaryFolder())
        for key in awkwardKeys {
            try await store.put(ByteBuffer(string: "content of \(key)"), key: key, contentType: "video/mp4")
        }
        for key in awkwardKeys {
            #expect(String(buffer: try await store.getBytes(key: key)) == "content of \(key)")
            #expect(try await store.head(key: key)?.size == Int64("content of \(key)".utf8.count))
        }
        let listed = try await store.list(prefix: "").map(\.key)
        #expect(listed == awkwardKeys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(try await store.list(prefix: "deep/nes").map(\.key) == ["deep/nested/path/to/seg_00001.ts"])
        #expect(try await store.head(key: "missing") == nil)
        try await store.delete(key: "missing")  // deleting nothing is fine
        try await store.delete(key: "deep/nested/path/to/seg_00001.ts")
        #expect(!FileManager.default.fileExists(atPath: store.root + "/deep"))  // empty folders tidied
    }

    @Test("ranges, missing objects, and streaming in chunks")
    func ranges() async throws {
        let store = try LocalStore(root: try temporaryFolder())
        var big = ByteBuffer()
        for index in 0..<(3 << 20) { big.writeInteger(UInt8(truncatingIfNeeded: index)) }
        try await store.put(big, key: "big.bin")
        var chunks = 0
        for try await _ in try await store.get(key: "big.bin") { chunks += 1 }
        #expect(chunks == 3)
        let slice = try await store.getBytes(key: "big.bin", range: 10...19)
        #expect(Array(slice.readableBytesView) == (10...19).map { UInt8($0) })
        let tail = try await store.getBytes(key: "big.bin", range: Int64(3 << 20) - 2...Int64(10 << 20))
        #expect(tail.readableBytes == 2)
        await #expect(throws: StorageError.self) { _ = try await store.get(key: "nope") }
        do { _ = try await store.get(key: "nope") } catch let error as StorageError { #expect(error.code == .notFound) }
    }

    @Test("put of a file: copy keeps it, move renames it; nothing left in staging")
    func putFile() async throws {
        let folder = try temporaryFolder()
        let store = try LocalStore(root: folder + "/store")
        let source = folder + "/source.bin"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: source))
        try await store.put(fileAt: source, key: "copied.bin")
        #expect(FileManager.default.fileExists(atPath: source))
        let inodeBefore = try FileManager.default.attributesOfItem(atPath: source)[.systemFileNumber] as? UInt64
        try await store.put(fileAt: source, key: "moved/file.bin", contentType: nil, mode: .move)
        #expect(!FileManager.default.fileExists(atPath: source))
        let inodeAfter = try FileManager.default.attributesOfItem(atPath: store.path(of: "moved/file.bin"))[.systemFileNumber] as? UInt64
        #expect(inodeBefore == inodeAfter)  // renamed, not copied
        #expect(String(buffer: try await store.getBytes(key: "copied.bin")) == "hello")
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/.staging").isEmpty)
        #expect(try await store.list(prefix: "").map(\.key) == ["copied.bin", "moved/file.bin"])
        #expect(try await store.mediaInput(key: "copied.bin", expiresIn: .seconds(60)) == store.root + "/copied.bin")
    }

    @Test("an overwrite replaces the object whole")
    func overwrite() async throws {
        let store = try LocalStore(root: try temporaryFolder())
        try await store.put(ByteBuffer(string: "a long first version"), key: "k")
        try await store.put(ByteBuffer(string: "short"), key: "k")
        #expect(String(buffer: try await store.getBytes(key: "k")) == "short")
    }

    @Test("delete by prefix")
    func deletePrefix() async throws {
        let store = try LocalStore(root: try temporaryFolder())
        for index in 0..<25 { try await store.put(ByteBuffer(string: "\(index)"), key: "processed/a/seg_\(index).ts") }
        try await store.put(ByteBuffer(string: "keep"), key: "processed/ab.txt")
        #expect(try await store.deletePrefix("processed/a/") == 25)
        #expect(try await store.list(prefix: "").map(\.key) == ["processed/ab.txt"])
        await #expect(throws: StorageError.self) { _ = try await store.deletePrefix("") }
    }

    @Test("presigned URLs come from the URL signer, or are unsupported without one")
    func presigned() async throws {
        let signer = try LocalURLSigner(secret: Array(repeating: 7, count: 32), baseURL: "http://127.0.0.1:8080/storage/")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let store = try LocalStore(root: try temporaryFolder(), urlSigner: signer, now: { now })
        let url = try await store.presignedGetURL(key: "a b/c.mp4", expiresIn: .seconds(60))
        #expect(url.hasPrefix("http://127.0.0.1:8080/storage/a%20b/c.mp4?expires=1700000060&signature="))
        let bare = try LocalStore(root: try temporaryFolder())
        await #expect(throws: StorageError.self) { _ = try await bare.presignedPutURL(key: "k", expiresIn: .seconds(5)) }
    }
}

@Suite("LocalURLSigner")
struct LocalURLSignerTests {
    let signer = try! LocalURLSigner(secret: Array("0123456789abcdef0123456789abcdef".utf8), baseURL: "http://h/storage")
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func parts(_ url: String) -> (expires: String, signature: String) {
        let query = url.split(separator: "?")[1].split(separator: "&").map { $0.split(separator: "=", maxSplits: 1) }
        return (String(query[0][1]), String(query[1][1]))
    }

    @Test("a signed URL verifies for its method, key and expiry only")
    func verify() throws {
        let url = signer.url(method: "GET", key: "processed/x/seg 1.ts", expiresIn: .seconds(300), now: now)
        let (expires, signature) = parts(url)
        try signer.verify(method: "GET", key: "processed/x/seg 1.ts", expires: expires, signature: signature, now: now)
        try signer.verify(method: "get", key: "processed/x/seg 1.ts", expires: expires, signature: signature, now: now)

        func code(_ body: () throws -> Void) -> StorageError.Code? {
            do { try body(); return nil } catch let error as StorageError { return error.code } catch { return nil }
        }
        #expect(code { try signer.verify(method: "PUT", key: "processed/x/seg 1.ts", expires: expires, signature: signature, now: now) } == .signatureMismatch)
        #expect(code { try signer.verify(method: "GET", key: "processed/x/seg 2.ts", expires: expires, signature: signature, now: now) } == .signatureMismatch)
        #expect(code { try signer.verify(method: "GET", key: "processed/x/seg 1.ts", expires: "1700009999", signature: signature, now: now) } == .signatureMismatch)
        #expect(code { try signer.verify(method: "GET", key: "processed/x/seg 1.ts", expires: expires, signature: "zz", now: now) } == .signatureMismatch)
        #expect(code { try signer.verify(method: "GET", key: "processed/x/seg 1.ts", expires: "soon", signature: signature, now: now) } == .signatureMismatch)
        let later = now.addingTimeInterval(301)
        #expect(code { try signer.verify(method: "GET", key: "processed/x/seg 1.ts", expires: expires, signature: signature, now: later) } == .expired)
        let other = try LocalURLSigner(secret: Array(repeating: 1, count: 32), baseURL: "http://h/storage")
        #expect(code { try other.verify(method: "GET", key: "processed/x/seg 1.ts", expires: expires, signature: signature, now: now) } == .signatureMismatch)
    }

    @Test("short secrets are refused")
    func shortSecret() {
        #expect(throws: StorageError.self) { _ = try LocalURLSigner(secret: [1, 2, 3], baseURL: "http://h") }
    }
}
