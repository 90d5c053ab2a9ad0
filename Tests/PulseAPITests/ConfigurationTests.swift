import Foundation
import PulseJobs
import PulseService
import PulseStorage
import PulseSupport
import SigV4
import Testing

@Suite("Configuration: flags, then environment, then defaults; every bad value at once")
struct ConfigurationTests {
    /// The problems a configuration has, or [] when it reads.
    func problems(flags: [String: String] = [:], _ environment: [String: String]) -> [String] {
        do {
            _ = try PulseConfiguration(flags: flags, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("a flag beats its variable, a variable beats the default")
    func precedence() throws {
        let environment = [
            "PULSE_WORKER_CONCURRENCY": "2", "PULSE_JOB_LEASE_SECONDS": "30", "PULSE_X264_PRESET": "fast",
            "PULSE_DATA_DIR": "/tmp/pulse-env-data", "PULSE_WORKERS": "3",
        ]
        let flags = ["--concurrency": "4", "--preset": "ultrafast", "--data": "/tmp/pulse-flag-data", "--port": "0"]
        let both = try PulseConfiguration(flags: flags, environment: environment)
        #expect(both.worker.concurrency == 4)
        #expect(both.pipeline.media.encoding.preset == "ultrafast")
        #expect(both.runtime.dataDirectory == "/tmp/pulse-flag-data")
        #expect(both.runtime.databaseURL == .sqliteFile(path: "/tmp/pulse-flag-data/pulse.sqlite"))
        #expect(both.api.port == 0)
        // No flag for these: the environment.
        #expect(both.worker.leaseSeconds == 30)
        #expect(both.embeddedWorkers == 3)

        let environmentOnly = try PulseConfiguration(environment: environment)
        #expect(environmentOnly.worker.concurrency == 2)
        #expect(environmentOnly.pipeline.media.encoding.preset == "fast")
        #expect(environmentOnly.runtime.dataDirectory == "/tmp/pulse-env-data")
        #expect(environmentOnly.runtime.storageURL == .folder("/tmp/pulse-env-data/storage"))
        #expect(environmentOnly.pipeline.workDirectory == "/tmp/pulse-env-data/work")

        // Nothing given, or only blank values: the documented defaults.
        for defaults in [try PulseConfiguration(environment: [:]), try PulseConfiguration(environment: environment.mapValues { _ in " " })] {
            #expect(defaults.worker.concurrency == 2)
            #expect(defaults.pipeline.firstRendition)
            #expect(defaults.worker.leaseSeconds == 60)
            #expect(defaults.worker.outageBudgetSeconds == 1800)
            #expect(defaults.pipeline.chunkSeconds == 60)
            #expect(defaults.embeddedWorkers == 1)
            #expect(defaults.pipeline.media.encoding.preset == "veryfast")
            #expect(defaults.pipeline.media.encoding.segmentSeconds == 10)
            #expect(defaults.pipeline.media.limits.maxDimension == 8192)
            #expect(defaults.pipeline.media.stallTimeout == .seconds(120) && defaults.pipeline.media.probeTimeout == .seconds(120))
            #expect(defaults.runtime.dataDirectory == RuntimeConfiguration.absolute("./data"))
            #expect(defaults.runtime.s3 == nil)
            #expect(defaults.api.host == "127.0.0.1" && defaults.api.port == 8080 && defaults.api.apiKey == nil)
            #expect(defaults.api.maxUploadBytes == 5 << 30)
            #expect(defaults.api.tokenLifetime == .seconds(21600) && defaults.api.uploadURLLifetime == .seconds(3600))
            #expect(defaults.reaper == ReaperConfiguration())
            #expect(defaults.logLevel == .info)
            #expect(defaults.runtime.publicURL == "http://127.0.0.1:8080")
        }
    }

    @Test("three bad values give one error naming all three")
    func everyProblemAtOnce() {
        let found = problems(flags: ["--lease-seconds": "1"], [
            "PULSE_WORKER_CONCURRENCY": "abc",
            "PULSE_TOKEN_SECRET": "too-short-secret",
            "PULSE_SEGMENT_SECONDS": "2",  // fine
        ])
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("PULSE_WORKER_CONCURRENCY ") && $0.contains("\"abc\"") })
        #expect(found.contains { $0.hasPrefix("--lease-seconds ") && $0.contains("3 to 3600") })
        #expect(found.contains { $0.hasPrefix("PULSE_TOKEN_SECRET ") && $0.contains("at least 32 bytes") })
        // A secret is named, never shown.
        #expect(!found.joined().contains("too-short-secret"))
        let error = ConfigurationError(found)
        #expect(error.description.contains("PULSE_WORKER_CONCURRENCY") && error.description.contains("--lease-seconds") && error.description.contains("PULSE_TOKEN_SECRET"))
    }

    @Test("a value that is not a number is an error, not the default", arguments: [
        ("PULSE_WORKER_CONCURRENCY", "abc"), ("PULSE_WORKER_CONCURRENCY", "1.5"), ("PULSE_WORKERS", "two"),
        ("PULSE_CHUNK_SECONDS", "sixty"), ("PULSE_JOB_LEASE_SECONDS", "inf"), ("PULSE_MAX_DIMENSION", "8k"),
        ("PULSE_MIN_DURATION", "x"), ("PULSE_MAX_UPLOAD_BYTES", "5GB"), ("PULSE_REAP_INTERVAL_SECONDS", "10m"),
        ("PULSE_STALL_TIMEOUT", "-"), ("PULSE_ALLOW_HTTP", "maybe"), ("PULSE_LOG_LEVEL", "verbose"),
    ])
    func notANumber(variable: String, value: String) {
        let found = problems([variable: value])
        #expect(found.count == 1 && found[0].hasPrefix(variable + " "), "\(found)")
    }

    @Test("out of range and inconsistent values are named")
    func ranges() {
        #expect(problems(["PULSE_WORKER_CONCURRENCY": "0"]).first?.hasPrefix("PULSE_WORKER_CONCURRENCY") == true)
        #expect(problems(["PULSE_WORKER_CONCURRENCY": "65"]).first?.hasPrefix("PULSE_WORKER_CONCURRENCY") == true)
        #expect(problems(["PULSE_JOB_LEASE_SECONDS": "2.5"]).first?.hasPrefix("PULSE_JOB_LEASE_SECONDS") == true)
        #expect(problems(["PULSE_JOB_LEASE_SECONDS": "3"]).isEmpty)
        #expect(problems(["PULSE_SEGMENT_SECONDS": "0"]).first?.hasPrefix("PULSE_SEGMENT_SECONDS") == true)
        #expect(problems(flags: ["--port": "70000"], [:]).first?.hasPrefix("--port") == true)
        #expect(problems(flags: ["--workers": "-1"], [:]).first?.hasPrefix("--workers") == true)
        #expect(problems(["PULSE_X264_PRESET": "warp"]).first?.hasPrefix("PULSE_X264_PRESET") == true)
        #expect(problems(["PULSE_MIN_DURATION": "10", "PULSE_MAX_DURATION": "5"]).first?.contains("below the maximum") == true)
        #expect(problems(["PULSE_REAP_FAILED_AFTER_SECONDS": "-1"]).first?.hasPrefix("PULSE_REAP_FAILED_AFTER_SECONDS") == true)
        #expect(problems(["PULSE_REAP_INTERVAL_SECONDS": "0"]).first?.hasPrefix("PULSE_REAP_INTERVAL_SECONDS") == true)
        // An abandoned asset's upload URL must have expired.
        #expect(problems(["PULSE_REAP_ABANDONED_AFTER_SECONDS": "600"]).first?.contains("upload URL lifetime") == true)
        #expect(problems(["PULSE_REAP_ABANDONED_AFTER_SECONDS": "600", "PULSE_UPLOAD_URL_TTL_SECONDS": "300"]).isEmpty)
        #expect(problems(["PULSE_REAP_ABANDONED_AFTER_SECONDS": "0"]).isEmpty)
        #expect(problems(["PULSE_DATABASE_URL": "mysql://x"]).first?.hasPrefix("PULSE_DATABASE_URL") == true)
        #expect(problems(["PULSE_STORAGE_URL": "file://relative"]).first?.hasPrefix("PULSE_STORAGE_URL") == true)
        #expect(problems(["PULSE_PUBLIC_URL": "example.com"]).first?.hasPrefix("PULSE_PUBLIC_URL") == true)
    }

    @Test("the AWS variables make the S3 settings; s3:// storage needs a key pair")
    func s3() throws {
        let configuration = try PulseConfiguration(environment: [
            "PULSE_STORAGE_URL": "s3://media/pulse",
            "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "TOK",
            "AWS_ENDPOINT_URL": "http://generic:9000", "AWS_ENDPOINT_URL_S3": "http://s3only:9000",
        ])
        #expect(configuration.runtime.storageURL == .s3(bucket: "media", prefix: "pulse"))
        let s3 = try #require(configuration.runtime.s3)
        #expect(s3.credentials == SigV4Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOK"))
        #expect(s3.region == "us-east-1")
        #expect(s3.endpoint == "http://s3only:9000")
        #expect(s3.addressing == .path)  // an endpoint implies path-style
        // The configured plain-http endpoint may be read by ffmpeg, and no other host.
        #expect(configuration.pipeline.media.plainHTTP.allows("http://s3only:9000/media/x"))
        #expect(!configuration.pipeline.media.plainHTTP.allows("http://elsewhere/x"))

        let aws = try #require(try PulseConfiguration(environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "eu-west-1"]).runtime.s3)
        #expect(aws.endpoint == nil && aws.addressing == .virtualHosted && aws.region == "eu-west-1")
        #expect(aws.credentials.sessionToken == nil)

        let missing = problems(["PULSE_STORAGE_URL": "s3://media"])
        #expect(missing.count == 1 && missing[0].hasPrefix("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "), "\(missing)")
        let badEndpoint = problems(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_ENDPOINT_URL": "minio:9000"])
        #expect(badEndpoint.count == 1 && badEndpoint[0].hasPrefix("AWS_ENDPOINT_URL "), "\(badEndpoint)")
        // Local storage needs no AWS variables.
        #expect(problems([:]).isEmpty)
    }

    @Test("serve's public URL: PULSE_PUBLIC_URL, else the address it listens on")
    func publicURL() throws {
        let listening = try PulseConfiguration(flags: ["--host": "0.0.0.0", "--port": "9090"], environment: [:])
        #expect(listening.runtime.publicURL == "http://127.0.0.1:9090" && listening.api.publicURL == nil)
        let configured = try PulseConfiguration(flags: ["--port": "9090"], environment: ["PULSE_PUBLIC_URL": "https://video.example"])
        #expect(configured.runtime.publicURL == "https://video.example" && configured.api.publicURL == "https://video.example")
        let noWorker = try PulseConfiguration(flags: ["--no-worker": "1"], environment: ["PULSE_WORKERS": "4"])
        #expect(noWorker.embeddedWorkers == 0)
    }
}
