import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import PulseTestSupport
import Synchronization
import Testing

@testable import PulseStorage
import PulseSupport
import SigV4

/// Against a real moto_server (`PULSE_TEST_S3_ENDPOINT`); each test makes its own bucket.
@Suite("S3Store against moto", .enabled(if: TestServices.shouldRun("PULSE_TEST_S3_ENDPOINT")))
struct S3IntegrationTests {
    func makeStore(_ label: String, prefix: String = "", tune: (inout S3Configuration) -> Void = { _ in }) async throws -> S3Store {
        var configuration = testConfiguration(endpoint: try TestServices.plainEndpoint)
        tune(&configuration)
        let store = try S3Store(bucket: uniqueBucket(label), prefix: prefix, configuration: configuration)
        try await store.createBucket()
        return store
    }

    @Test("awkward keys round-trip under a prefix: put, head, get, range, list, delete")
    func awkwardKeys() async throws {
        let store = try await makeStore("keys", prefix: "root dir/")
        for key in PulseStorageTests.awkwardKeys {
            try await store.put(ByteBuffer(string: "content of \(key)"), key: key, contentType: "text/plain")
        }
        for key in PulseStorageTests.awkwardKeys {
            #expect(String(buffer: try await store.getBytes(key: key)) == "content of \(key)", "\(key)")
            let info = try #require(try await store.head(key: key))
            #expect(info.size == Int64("content of \(key)".utf8.count))
            #expect(info.contentType == "text/plain")
        }
        #expect(String(buffer: try await store.getBytes(key: "a+b=c&d~e.ts", range: 0...6)) == "content")
        let listed = try await store.list(prefix: "").map(\.key)
        #expect(listed == PulseStorageTests.awkwardKeys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for key in PulseStorageTests.awkwardKeys { try await store.delete(key: key) }
        #expect(try await store.list(prefix: "").isEmpty)
    }

    @Test("missing objects: head is nil, get is notFound, delete is fine")
    func missing() async throws {
        let store = try await makeStore("missing")
        #expect(try await store.head(key: "nope.mp4") == nil)
        try await store.delete(key: "nope.mp4")
        do {
            _ = try await store.get(key: "nope.mp4")
            Issue.record("get of a missing key succeeded")
        } catch let error as StorageError {
            #expect(error.code == .notFound)
            #expect(error.serverCode == "NoSuchKey")
        }
        let noBucket = try S3Store(bucket: uniqueBucket("nobucket"), configuration: testConfiguration(endpoint: try TestServices.plainEndpoint))
        do {
            try await noBucket.put(ByteBuffer(string: "x"), key: "k")
            Issue.record("put into a missing bucket succeeded")
        } catch let error as StorageError {
            #expect(error.code == .notFound && error.serverCode == "NoSuchBucket")
        }
    }

    @Test("list pages and batch delete, with small pages injected")
    func pagingAndBatchDelete() async throws {
        let store = try await makeStore("paging") { $0.listPageSize = 7; $0.deleteBatchSize = 5 }
        let keys = (0..<23).map { String(format: "processed/v/seg_%05d.ts", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys { group.addTask { try await store.put(ByteBuffer(string: key), key: key) } }
            try await group.waitForAll()
        }
        try await store.put(ByteBuffer(string: "other"), key: "processed/w/keep.ts")
        #expect(try await store.list(prefix: "processed/v/").map(\.key) == keys)
        #expect(try await store.deletePrefix("processed/v/") == 23)
        #expect(try await store.list(prefix: "").map(\.key) == ["processed/w/keep.ts"])
    }

    @Test("a 100 MiB file goes up in parallel parts and comes back intact, in bounded memory")
    func multipartRoundTrip() async throws {
        let store = try await makeStore("multipart")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = folder + "/big.bin"
        let size = 100 << 20
        // Written in 1 MiB blocks of pseudo-random bytes so the file never sits in memory whole.
        var hasher = SHA256()
        _ = FileManager.default.createFile(atPath: source, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<(size >> 20) {
            let block = Data((0..<(1 << 17)).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } })
            hasher.update(data: block)
            try handle.write(contentsOf: block)
        }
        try handle.close()
        let expected = hasher.finalize()

        // RSS is the whole test process's, and other suites run beside this one: the least growth
        // of up to three round trips is the store's own. A store that held the file would exceed
        // the bound every time.
        var growths: [Int64] = []
        for attempt in 1...3 {
            let baseline = residentSetSize()
            let peak = PeakGauge(baseline)
            let key = "uploads/big-\(attempt).bin"
            let (downloaded, digest) = try await withThrowingTaskGroup(of: (Int, SHA256.Digest)?.self) { group in
                group.addTask {
                    // Samples RSS until cancelled.
                    while !Task.isCancelled {
                        let rss = residentSetSize()
                        peak.record(rss)
                        // The sampling period, not a wait.
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                    return nil
                }
                group.addTask {
                    try await store.put(fileAt: source, key: key, contentType: "video/mp4")
                    var hasher = SHA256(), count = 0
                    for try await chunk in try await store.get(key: key) {
                        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                        count += chunk.readableBytes
                    }
                    return (count, hasher.finalize())
                }
                let result = try await group.next()!!
                group.cancelAll()
                return result
            }
            #expect(downloaded == size)
            #expect(digest == expected)
            #expect(try await store.head(key: key)?.etag?.hasSuffix("-7") == true)  // 7 parts of 16 MiB
            growths.append(peak.value - baseline)
            if growths.last! < 40 << 20 { break }
        }
        #expect(growths.min()! < 40 << 20, "RSS grew by \(growths.map { $0 >> 20 }) MiB during 100 MiB round trips")
    }

    @Test("presigned PUT, then presigned GET with a Range, over plain HTTP")
    func presignedURLs() async throws {
        let store = try await makeStore("presign")
        let key = "uploads/é x+y/clip (1).mp4"
        let putURL = try await store.presignedPutURL(key: key, expiresIn: .seconds(300))
        var put = HTTPClientRequest(url: putURL)
        put.method = .PUT
        put.body = .bytes(ByteBuffer(string: "0123456789abcdef"))
        let putResponse = try await HTTPClient.shared.execute(put, timeout: .seconds(30))
        #expect(putResponse.status == .ok)
        let getURL = try await store.mediaInput(key: key, expiresIn: .seconds(300))
        var get = HTTPClientRequest(url: getURL)
        get.headers.add(name: "Range", value: "bytes=4-9")
        let getResponse = try await HTTPClient.shared.execute(get, timeout: .seconds(30))
        #expect(getResponse.status == .partialContent)
        #expect(String(buffer: try await getResponse.body.collect(upTo: 1024)) == "456789")
    }

    @Test("503s and dropped connections are retried; persistent failure surfaces as serverError")
    func retries() async throws {
        let endpoint = try TestServices.plainEndpoint
        let setup = try await makeStore("retry")
        let faulty = FaultyTransport(failures: [.status(503, "SlowDown"), .connectionError, .status(500, "InternalError")])
        let delays = Mutex<[Duration]>([])
        var configuration = testConfiguration(endpoint: endpoint)
        configuration.retry.random = { 1 }
        configuration.retry.sleep = { delay in delays.withLock { $0.append(delay) } }
        let store = try S3Store(bucket: setup.bucket, configuration: configuration, transport: faulty,
                                logger: Logger(label: "test"), now: { Date() })
        try await store.put(ByteBuffer(string: "survived"), key: "k.txt")
        #expect(faulty.calls == 4)
        #expect(delays.withLock { $0 } == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        #expect(String(buffer: try await setup.getBytes(key: "k.txt")) == "survived")

        let alwaysFailing = FaultyTransport(failures: Array(repeating: .status(503, "SlowDown"), count: 10))
        let doomed = try S3Store(bucket: setup.bucket, configuration: configuration, transport: alwaysFailing,
                                 logger: Logger(label: "test"), now: { Date() })
        do {
            try await doomed.put(ByteBuffer(string: "x"), key: "never.txt")
            Issue.record("succeeded despite failures")
        } catch let error as StorageError {
            #expect(error.code == .serverError && error.serverCode == "SlowDown")
            #expect(alwaysFailing.calls == configuration.retry.maxAttempts)
        }
        // A 4xx is not retried.
        let denied = FaultyTransport(failures: [.status(403, "AccessDenied")])
        let once = try S3Store(bucket: setup.bucket, configuration: configuration, transport: denied,
                               logger: Logger(label: "test"), now: { Date() })
        await #expect(throws: StorageError.self) { try await once.delete(key: "k.txt") }
        #expect(denied.calls == 1)
    }

    @Test("a failed multipart upload is aborted")
    func multipartAbort() async throws {
        let setup = try await makeStore("abort")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = folder + "/f.bin"
        try Data(repeating: 1, count: 12 << 20).write(to: URL(fileURLWithPath: source))
        var configuration = testConfiguration(endpoint: try TestServices.plainEndpoint)
        configuration.multipartThreshold = 5 << 20
        configuration.partSize = 5 << 20
        configuration.retry.maxAttempts = 1
        // Fails the third request: create and one part succeed, another part gets a 400.
        let faulty = FaultyTransport(failures: [.pass, .pass, .status(400, "InvalidPart")])
        let store = try S3Store(bucket: setup.bucket, configuration: configuration, transport: faulty,
                                logger: Logger(label: "test"), now: { Date() })
        await #expect(throws: StorageError.self) { try await store.put(fileAt: source, key: "f.bin") }
        #expect(faulty.methods.last == "DELETE")  // AbortMultipartUpload
        #expect(try await setup.head(key: "f.bin") == nil)
    }
}

/// Moto with signature checking (`PULSE_TEST_S3_AUTH_ENDPOINT`).
@Suite("S3Store against moto with SigV4 checking", .enabled(if: TestServices.shouldRun("PULSE_TEST_S3_AUTH_ENDPOINT")))
struct S3AuthIntegrationTests {
    /// Three unauthenticated IAM calls: a user, an access key, an allow-all policy.
    static func createCredentials(endpoint: String) async throws -> SigV4Credentials {
        var reset = HTTPClientRequest(url: endpoint + "/moto-api/reset-auth")
        reset.method = .POST
        reset.headers.add(name: "Content-Type", value: "text/plain")
        reset.body = .bytes(ByteBuffer(string: "3"))
        #expect(try await HTTPClient.shared.execute(reset, timeout: .seconds(10)).status == .ok)
        let user = "pulse-\(UInt32.random(in: 0...UInt32.max))"
        func iam(_ form: String) async throws -> String {
            var request = HTTPClientRequest(url: endpoint + "/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            // moto routes by the credential scope's service; the signature itself is not checked for these calls.
            request.headers.add(name: "Authorization",
                                value: "AWS4-HMAC-SHA256 Credential=none/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
            request.body = .bytes(ByteBuffer(string: form + "&Version=2010-05-08"))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            return String(buffer: try await response.body.collect(upTo: 1 << 20))
        }
        _ = try await iam("Action=CreateUser&UserName=\(user)")
        let keyXML = try await iam("Action=CreateAccessKey&UserName=\(user)")[...]
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        let encodedPolicy = S3URIEncoding.encodeQueryComponent(policy)
        _ = try await iam("Action=PutUserPolicy&UserName=\(user)&PolicyName=all&PolicyDocument=\(encodedPolicy)")
        let keyID = try #require(S3XML.value("AccessKeyId", in: keyXML))
        let secret = try #require(S3XML.value("SecretAccessKey", in: keyXML))
        return SigV4Credentials(accessKeyID: keyID, secretAccessKey: secret)
    }

    @Test("the right secret works; a wrong one gets signatureMismatch")
    func signatureChecked() async throws {
        let endpoint = try TestServices.authEndpoint
        let credentials = try await Self.createCredentials(endpoint: endpoint)
        let store = try S3Store(bucket: uniqueBucket("auth"), configuration: testConfiguration(endpoint: endpoint, credentials: credentials))
        try await store.createBucket()
        // moto's verifier computes other canonical URIs than AWS for `+`, `=`, `()` and non-ASCII keys (it
        // rejects botocore's own signatures for them too), so this key stays within what it checks
        // correctly; the botocore comparison covers the awkward ones.
        let key = "uploads/a b/clip.mp4"
        try await store.put(ByteBuffer(string: "signed"), key: key)
        #expect(String(buffer: try await store.getBytes(key: key)) == "signed")
        // Prefixes without `/`: moto's verifier also mis-encodes `/` in query values (botocore fails there too).
        #expect(try await store.list(prefix: "uploads").map(\.key) == [key])
        #expect(try await store.deletePrefix("uploads") == 1)

        var wrong = credentials
        wrong.secretAccessKey = String(credentials.secretAccessKey.reversed())
        let impostor = try S3Store(bucket: store.bucket, configuration: testConfiguration(endpoint: endpoint, credentials: wrong))
        do {
            try await impostor.put(ByteBuffer(string: "forged"), key: "forged.txt")
            Issue.record("a wrong secret was accepted")
        } catch let error as StorageError {
            #expect(error.code == .signatureMismatch)
            #expect(error.serverCode == "SignatureDoesNotMatch")
        }
    }
}

/// The highest value recorded, shared between the sampling task and the test.
final class PeakGauge: Sendable {
    private let peak: Mutex<Int64>
    init(_ initial: Int64) { peak = Mutex(initial) }
    func record(_ value: Int64) { peak.withLock { $0 = max($0, value) } }
    var value: Int64 { peak.withLock { $0 } }
}

/// Sends requests to the real server, except for the scripted failures, one per call, in order.
final class FaultyTransport: S3Transport {
    enum Failure: Sendable { case pass, status(Int, String), connectionError }
    private let state: Mutex<(failures: [Failure], calls: Int, methods: [String])>
    private let real = HTTPClientTransport(client: .shared)

    init(failures: [Failure]) { state = Mutex((failures, 0, [])) }

    var calls: Int { state.withLock { $0.calls } }
    var methods: [String] { state.withLock { $0.methods } }

    struct InjectedConnectionError: Error {}

    func execute(_ request: HTTPClientRequest, timeout: Duration, logger: Logger) async throws -> HTTPClientResponse {
        let failure = state.withLock { state -> Failure in
            state.calls += 1
            state.methods.append(request.method.rawValue)
            return state.failures.isEmpty ? .pass : state.failures.removeFirst()
        }
        switch failure {
        case .pass:
            return try await real.execute(request, timeout: timeout, logger: logger)
        case .connectionError:
            throw InjectedConnectionError()
        case .status(let status, let code):
            let body = "<?xml version=\"1.0\"?><Error><Code>\(code)</Code><Message>injected</Message></Error>"
            return HTTPClientResponse(status: .init(statusCode: status), body: .bytes(ByteBuffer(string: body)))
        }
    }
}
