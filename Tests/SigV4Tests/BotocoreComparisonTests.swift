import Foundation
import Testing

import SigV4

/// Our presigned URLs must be byte-identical to botocore's for the same credentials, time, bucket,
/// key and expiry. botocore is the reference implementation most S3-compatible servers are tested
/// against, so agreeing with it over awkward keys is strong evidence the encoding is right.
@Suite("presigned URLs match botocore")
struct BotocoreComparisonTests {
    struct Case: Codable, Sendable, CustomTestStringConvertible {
        var key: String
        var method: String  // "GET" or "PUT"
        var style: String  // "path" or "virtual"
        var endpoint: String?  // nil: AWS's own endpoint for the region
        var region: String
        var sessionToken: String?
        var expires: Int
        /// A presigned `UploadPart` (botocore's `upload_part`) when set.
        var partNumber: Int? = nil
        var uploadID: String? = nil
        var testDescription: String { "\(method) \(style) \(region) token=\(sessionToken != nil) part=\(partNumber ?? 0) \(key)" }
    }

    static let keys = [
        "test.txt",
        "my video.mp4",
        "été/ünïcødé 視頻.mov",
        "a+b=c&d~e.ts",
        "deep/nested/path/with spaces/seg_00001.ts",
        "percent%20literal",
        "semi;colon,comma:colon@at!bang'quote(paren)*star$dollar",
        "x//double/slash",
        "uploads/0f1e/raw (1).MP4",
    ]

    static let cases: [Case] = {
        var cases: [Case] = []
        for key in keys {
            for method in ["GET", "PUT"] {
                cases.append(Case(key: key, method: method, style: "path", endpoint: "http://127.0.0.1:5055",
                                  region: "us-east-1", sessionToken: nil, expires: 3600))
                cases.append(Case(key: key, method: method, style: "virtual", endpoint: nil,
                                  region: "us-east-1", sessionToken: "FwoGZXIvYXdzE+token/with=odd", expires: 86400))
            }
        }
        cases.append(Case(key: "a b+c.mp4", method: "GET", style: "virtual", endpoint: nil,
                          region: "eu-west-1", sessionToken: nil, expires: 604800))
        cases.append(Case(key: "a b+c.mp4", method: "PUT", style: "path", endpoint: "https://minio.example.com:9000",
                          region: "eu-central-1", sessionToken: "tok", expires: 60))
        // Presigned UploadPart URLs, as a browser gets them for a multipart upload: upload ids
        // as AWS and moto make them (with `.`, `-`, `_`, `+`, `/`, `=`).
        for (key, uploadID) in [("uploads/0f1e/clip.mp4", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"),
                                ("my video.mp4", "2~abc.DEF-ghi_jkl+mno/pqr="), ("été/ünïcødé 視頻.mov", "x")] {
            for part in [1, 10_000] {
                cases.append(Case(key: key, method: "PUT", style: "path", endpoint: "http://127.0.0.1:5055", region: "us-east-1",
                                  sessionToken: nil, expires: 3600, partNumber: part, uploadID: uploadID))
                cases.append(Case(key: key, method: "PUT", style: "virtual", endpoint: nil, region: "eu-west-1",
                                  sessionToken: "FwoGZXIvYXdzE+token/with=odd", expires: 900, partNumber: part, uploadID: uploadID))
            }
        }
        return cases
    }()

    static let accessKey = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let bucket = "examplebucket"
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    /// Freezes botocore's clock at 2013-05-24T00:00:00Z and prints one presigned URL per case.
    static let script = """
        import datetime, json, sys
        import botocore.auth, botocore.session
        from botocore.config import Config
        FROZEN = datetime.datetime(2013, 5, 24, 0, 0, 0)
        class Frozen(datetime.datetime):
            @classmethod
            def utcnow(cls): return FROZEN
            @classmethod
            def now(cls, tz=None): return FROZEN.replace(tzinfo=tz)
        botocore.auth.datetime.datetime = Frozen
        if hasattr(botocore.auth, "get_current_datetime"):
            botocore.auth.get_current_datetime = lambda *a, **k: FROZEN
        session = botocore.session.get_session()
        out = []
        for c in json.load(sys.stdin):
            client = session.create_client(
                "s3", region_name=c["region"], endpoint_url=c.get("endpoint"),
                aws_access_key_id=c["accessKey"], aws_secret_access_key=c["secret"],
                aws_session_token=c.get("sessionToken"),
                config=Config(signature_version="s3v4", s3={"addressing_style": c["style"]}))
            params = {"Bucket": c["bucket"], "Key": c["key"]}
            op = "get_object" if c["method"] == "GET" else "put_object"
            if c.get("partNumber"):
                op = "upload_part"
                params.update(PartNumber=c["partNumber"], UploadId=c["uploadId"])
            out.append(client.generate_presigned_url(op, Params=params, ExpiresIn=c["expires"]))
        json.dump(out, sys.stdout)
        """

    /// Runs botocore; a missing python3 or botocore fails the test (it must never silently skip).
    static func botocoreURLs(_ cases: [Case]) throws -> [String] {
        let input = try JSONSerialization.data(withJSONObject: cases.map { c -> [String: Any] in
            var object: [String: Any] = [
                "key": c.key, "method": c.method, "style": c.style, "region": c.region,
                "expires": c.expires, "bucket": bucket, "accessKey": accessKey, "secret": secret,
            ]
            if let endpoint = c.endpoint { object["endpoint"] = endpoint }
            if let token = c.sessionToken { object["sessionToken"] = token }
            if let part = c.partNumber, let uploadID = c.uploadID { object["partNumber"] = part; object["uploadId"] = uploadID }
            return object
        })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3/botocore failed: \(String(decoding: errors, as: UTF8.self))")
        return try JSONDecoder().decode([String].self, from: output)
    }

    /// Addressing as botocore does it: path-style puts the bucket in the path of the endpoint;
    /// virtual-hosted puts it in front of `s3.amazonaws.com` (us-east-1) or `s3.REGION.amazonaws.com`.
    static func ours(_ c: Case) -> String {
        let credentials = SigV4Credentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: c.sessionToken)
        let signer = SigV4Signer(credentials: credentials, region: c.region)
        let scheme: String, host: String, path: String
        if let endpoint = c.endpoint {
            let parts = endpoint.split(separator: "://", maxSplits: 1)
            scheme = String(parts[0])
            host = c.style == "path" ? String(parts[1]) : "\(bucket).\(parts[1])"
        } else {
            scheme = "https"
            let awsHost = c.region == "us-east-1" ? "s3.amazonaws.com" : "s3.\(c.region).amazonaws.com"
            host = c.style == "path" ? awsHost : "\(bucket).\(awsHost)"
        }
        path = c.style == "path" ? "/\(bucket)/\(c.key)" : "/\(c.key)"
        var query: [String: String] = [:]
        if let part = c.partNumber, let uploadID = c.uploadID { query = ["partNumber": String(part), "uploadId": uploadID] }
        return signer.presignURL(
            method: c.method, scheme: scheme, host: host, path: path, query: query, expires: c.expires, date: date
        )
    }

    @Test("every case, byte for byte")
    func matchesBotocore() throws {
        let expected = try Self.botocoreURLs(Self.cases)
        try #require(expected.count == Self.cases.count)
        for (index, c) in Self.cases.enumerated() {
            #expect(Self.ours(c) == expected[index], "\(c.testDescription)")
        }
    }
}
