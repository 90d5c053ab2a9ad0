import Foundation
import Logging
import Testing

@testable import PulseStorage
import PulseSupport
import SigV4

@Suite("S3 configuration, addressing and parsing (no I/O)")
struct S3UnitTests {
    @Test("an endpoint implies path-style addressing; AWS itself is virtual-hosted")
    func defaults() {
        let credentials = SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK")
        let endpoint = S3Configuration(credentials: credentials, endpoint: "http://s3only:9000")
        #expect(endpoint.region == "us-east-1" && endpoint.addressing == .path)
        let aws = S3Configuration(credentials: credentials, region: "eu-west-1")
        #expect(aws.endpoint == nil && aws.addressing == .virtualHosted && aws.region == "eu-west-1")
        // Reading the AWS_* variables is the configuration reader's (PulseAPITests' ConfigurationTests).
    }

    @Test("addressing: path-style, virtual-hosted, default ports")
    func addressing() throws {
        let credentials = SigV4Credentials(accessKeyID: "a", secretAccessKey: "s")
        let path = try S3Addressing(bucket: "media", configuration: .init(credentials: credentials, endpoint: "http://127.0.0.1:5055/"))
        #expect(path.host == "127.0.0.1:5055" && path.path(forKey: "a b") == "/media/a b")
        #expect(path.url(path: path.path(forKey: "a b+c")) == "http://127.0.0.1:5055/media/a%20b%2Bc")
        let virtual = try S3Addressing(bucket: "media", configuration: .init(credentials: credentials, region: "eu-west-1"))
        #expect(virtual.host == "media.s3.eu-west-1.amazonaws.com" && virtual.scheme == "https")
        #expect(virtual.path(forKey: "k") == "/k" && virtual.bucketRoot == "/")
        let defaultPort = try S3Addressing(bucket: "media", configuration: .init(credentials: credentials, endpoint: "https://R2.example.com:443"))
        #expect(defaultPort.host == "r2.example.com")
        #expect(throws: StorageError.self) {
            _ = try S3Addressing(bucket: "Bad_Bucket", configuration: .init(credentials: credentials))
        }
    }

    @Test("storage URLs parse once into the typed value the factory builds from")
    func factory() throws {
        let folder = try temporaryFolder()
        let logger = Logger(label: "factory-test")
        let local = try makeObjectStore(url: try StorageURL("file://\(folder)/store"), logger: logger)
        #expect((local as? LocalStore)?.root == folder + "/store")
        let settings = S3Configuration(credentials: SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK"), endpoint: "http://127.0.0.1:9")
        let s3 = try #require(try makeObjectStore(url: try StorageURL("s3://media/pulse/dev"), s3: settings, logger: logger) as? S3Store)
        #expect(s3.bucket == "media" && s3.prefix == "pulse/dev/")
        let bare = try #require(try makeObjectStore(url: try StorageURL("s3://media"), s3: settings, logger: logger) as? S3Store)
        #expect(bare.prefix == "")
        #expect(throws: StorageError.self) { _ = try StorageURL("ftp://x") }
        #expect(throws: StorageError.self) { _ = try StorageURL("file://relative") }
        #expect(throws: StorageError.self) { _ = try StorageURL("s3:///key") }
        // s3:// without S3 settings (no key pair configured).
        #expect(throws: StorageError.self) { _ = try makeObjectStore(url: .s3(bucket: "media", prefix: "x"), logger: logger) }
        #expect(try StorageURL("s3://media/pulse/dev") == .s3(bucket: "media", prefix: "pulse/dev"))
        #expect(try StorageURL("file:///srv/pulse") == .folder("/srv/pulse"))
        // The description is the URL again.
        for url in ["s3://media/pulse/dev", "s3://media", "file:///srv/pulse"] { #expect(try StorageURL(url).description == url) }
    }

    @Test(
        "S3 error codes map to ours",
        arguments: [
            ("NoSuchKey", 404, StorageError.Code.notFound), ("NoSuchBucket", 404, .notFound),
            ("AccessDenied", 403, .accessDenied), ("InvalidAccessKeyId", 403, .accessDenied),
            ("SignatureDoesNotMatch", 403, .signatureMismatch), ("SlowDown", 503, .serverError),
            ("InternalError", 500, .serverError), ("KeyTooLongError", 400, .invalidKey),
        ] as [(String?, Int, StorageError.Code)]
    )
    func errorMapping(code: String?, status: Int, expected: StorageError.Code) {
        #expect(StorageError.Code.fromS3(code: code, status: status) == expected)
    }

    @Test("unknown codes fall back on the status")
    func statusFallback() {
        #expect(StorageError.Code.fromS3(code: nil, status: 404) == .notFound)
        #expect(StorageError.Code.fromS3(code: "Weird", status: 429) == .serverError)
        #expect(StorageError.Code.fromS3(code: nil, status: 302) == .badResponse)
    }

    @Test("the XML scanner: entities, attributes, odd input never crashes")
    func xml() {
        let doc = """
            <?xml version="1.0"?><ListBucketResult xmlns="x"><IsTruncated>true</IsTruncated>\
            <Contents><Key>a &amp; b &lt;c&gt; &#233;&#x1F600;</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag></Contents>\
            <Contents><Key>second</Key></Contents><NextContinuationToken>t/1=</NextContinuationToken></ListBucketResult>
            """[...]
        let contents = S3XML.blocks("Contents", in: doc)
        #expect(contents.count == 2)
        #expect(S3XML.value("Key", in: contents[0]) == "a & b <c> é😀")
        #expect(S3XML.value("ETag", in: contents[0]).map(S3Store.unquote) == "abc")
        #expect(S3XML.value("NextContinuationToken", in: doc) == "t/1=")
        #expect(S3XML.value("IsTruncated", in: doc) == "true")
        for junk in ["", "<", "<Key>", "<Key>unclosed", "&bogus; <Key>&#xZZ;&</Key>", "<Keys>x</Keys>"] {
            _ = S3XML.blocks("Key", in: junk[...])
            _ = S3XML.value("Key", in: junk[...])
        }
        #expect(S3XML.value("Key", in: "<Keys>x</Keys>"[...]) == nil)
        #expect(S3XML.escape("a&<>\"'") == "a&amp;&lt;&gt;&quot;&apos;")
    }

    @Test("backoff doubles from the base, is capped, and is jittered")
    func backoff() {
        var policy = RetryPolicy.s3Request
        policy.random = { 1 }
        #expect(policy.wait(afterAttempt: 1) == .milliseconds(100))
        #expect(policy.wait(afterAttempt: 3) == .milliseconds(400))
        #expect(policy.wait(afterAttempt: 30) == .seconds(5))
        policy.random = { 0.5 }
        #expect(policy.wait(afterAttempt: 2) == .milliseconds(100))
        #expect(policy.retries(afterAttempt: 4) && !policy.retries(afterAttempt: 5))
    }

    @Test("S3 presigned URLs match what the signer gives for the addressed path, with a prefix")
    func presign() async throws {
        let credentials = SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let date = Date(timeIntervalSince1970: 1_369_353_600)
        let store = try S3Store(bucket: "examplebucket", configuration: .init(credentials: credentials), now: { date })
        // The published example, through the store: virtual-hosted, us-east-1.
        let url = try await store.presignedGetURL(key: "test.txt", expiresIn: .seconds(86400))
        #expect(url.hasSuffix("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(url.hasPrefix("https://examplebucket.s3.amazonaws.com/test.txt?"))
        let prefixed = try S3Store(bucket: "examplebucket", prefix: "/root/", configuration: .init(credentials: credentials), now: { date })
        #expect(try await prefixed.mediaInput(key: "a b.mp4", expiresIn: .seconds(60)).hasPrefix("https://examplebucket.s3.amazonaws.com/root/a%20b.mp4?"))
        await #expect(throws: StorageError.self) { _ = try await store.presignedPutURL(key: "k", expiresIn: .seconds(604_801)) }
    }
}
