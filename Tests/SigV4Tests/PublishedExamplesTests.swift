import Foundation
import Testing

import PulseSupport
@testable import SigV4

/// The worked examples of the S3 developer guide ("Signature Calculations for the Authorization Header:
/// Transferring Payload in a Single Chunk" and "Authenticating Requests: Using Query Parameters"),
/// with the signatures AWS publishes for them.
@Suite("AWS published S3 SigV4 examples")
struct PublishedExamplesTests {
    static let credentials = SigV4Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let host = "examplebucket.s3.amazonaws.com"
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func header(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == name }?.value
    }

    @Test("the example date formats as the published timestamp")
    func exampleDate() {
        let date = AmzDate(Self.date)
        #expect(date.timestamp == "20130524T000000Z")
        #expect(date.day == "20130524")
        // A leap day and the end of a year, where hand-written calendar code tends to go wrong.
        #expect(AmzDate(secondsSince1970: 951_782_400).timestamp == "20000229T000000Z")
        #expect(AmzDate(secondsSince1970: 1_735_689_599).timestamp == "20241231T235959Z")
    }

    @Test("GET object with a Range header")
    func getObject() {
        let headers = Self.signer.signHeaders(
            method: "GET", host: Self.host, path: "/test.txt",
            headers: ["Range": "bytes=0-9"], payload: .empty, date: Self.date
        )
        #expect(Self.header("x-amz-content-sha256", in: headers) == Self.emptyHash)
        #expect(Self.header("x-amz-date", in: headers) == "20130524T000000Z")
        #expect(
            Self.header("authorization", in: headers)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("GET object: the canonical request is the published one")
    func getObjectCanonicalRequest() {
        var headers = CanonicalHeaders(["range": "bytes=0-9"])
        headers.set("host", Self.host)
        headers.set("x-amz-content-sha256", Self.emptyHash)
        headers.set("x-amz-date", "20130524T000000Z")
        let canonical = Self.signer.canonicalRequest(
            method: "GET", path: "/test.txt", canonicalQuery: "", headers: headers, payloadHash: Self.emptyHash
        )
        #expect(
            canonical == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """
        )
        let toSign = Self.signer.stringToSign(canonicalRequest: canonical, date: AmzDate(Self.date))
        #expect(toSign.hasSuffix("\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
    }

    @Test("PUT object with a signed payload, a Date header and a storage class; `$` in the key")
    func putObject() {
        let payload = SigV4Payload.hashing("Welcome to Amazon S3.")
        #expect(payload.value == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let headers = Self.signer.signHeaders(
            method: "PUT", host: Self.host, path: "/test$file.text",
            headers: ["Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"],
            payload: payload, date: Self.date
        )
        let authorization = Self.header("authorization", in: headers) ?? ""
        #expect(authorization.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        #expect(authorization.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test("GET bucket lifecycle: a query parameter without a value")
    func getLifecycle() {
        let headers = Self.signer.signHeaders(
            method: "GET", host: Self.host, path: "/", query: ["lifecycle": ""], payload: .empty, date: Self.date
        )
        #expect(
            Self.header("authorization", in: headers)?
                .hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") == true
        )
    }

    @Test("GET bucket (list objects): query parameters sorted")
    func listObjects() {
        let headers = Self.signer.signHeaders(
            method: "GET", host: Self.host, path: "/", query: ["prefix": "J", "max-keys": "2"],
            payload: .empty, date: Self.date
        )
        #expect(
            Self.header("authorization", in: headers)?
                .hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true
        )
    }

    @Test("presigned GET (query parameters), the whole URL as published")
    func presignedGet() {
        let url = Self.signer.presignURL(
            method: "GET", host: Self.host, path: "/test.txt", expires: 86400, date: Self.date
        )
        #expect(
            url == "https://examplebucket.s3.amazonaws.com/test.txt"
                + "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    @Test("a session token is sent and signed")
    func sessionToken() {
        var credentials = Self.credentials
        credentials.sessionToken = "token/with+odd=chars"
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let headers = signer.signHeaders(
            method: "GET", host: Self.host, path: "/test.txt", payload: .empty, date: Self.date
        )
        #expect(Self.header("x-amz-security-token", in: headers) == "token/with+odd=chars")
        #expect(
            Self.header("authorization", in: headers)?
                .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") == true
        )
        #expect(!credentials.description.contains("token/with"))
        #expect(!credentials.description.contains("wJalr"))
    }
}

@Suite("S3 URI encoding")
struct S3URIEncodingTests {
    @Test(
        "paths are encoded once, slashes kept, nothing normalised",
        arguments: [
            ("/a b/c", "/a%20b/c"),
            ("/été+=&~_-.x", "/%C3%A9t%C3%A9%2B%3D%26~_-.x"),
            ("/already%20encoded", "/already%2520encoded"),
            ("/a//b/./c/../d", "/a//b/./c/../d"),
            ("/😀", "/%F0%9F%98%80"),
        ]
    )
    func path(input: String, expected: String) {
        #expect(S3URIEncoding.encodePath(input) == expected)
    }

    @Test("query components encode the slash too")
    func query() {
        #expect(S3URIEncoding.encodeQueryComponent("a/b c+d=e") == "a%2Fb%20c%2Bd%3De")
    }
}
