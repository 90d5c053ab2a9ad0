import Foundation
@testable import PulseAPI
import PulseDatabase
import PulseJobs
import PulseService
import PulseTestSupport
import Testing

@Suite("Webhooks: Standard Webhooks signatures, settings, the SSRF guard, delivery rounds")
struct WebhookTests {
    /// The test vector of the Standard Webhooks reference libraries
    /// (github.com/standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py
    /// `test_sign_function`, and libraries/go/webhook_test.go `TestWebhookSign`).
    @Test func signatureMatchesThePublishedTestVector() throws {
        let secret = try WebhookConfiguration.secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signer = WebhookSigner(secret: secret)
        let signature = signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let headers = signer.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(headers.map(\.0) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[1].1 == "1614265330")
        // One byte of the body changed: another signature.
        #expect(signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232315}"#.utf8)) != signature)
    }

    @Test func secretMustBeWhsecBase64Of24To64Bytes() throws {
        #expect(try WebhookConfiguration.secret("whsec_" + Data(repeating: 7, count: 32).base64EncodedString()) == Array(repeating: 7, count: 32))
        for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!", "whsec_" + Data(repeating: 1, count: 16).base64EncodedString(),
                    "whsec_" + Data(repeating: 1, count: 65).base64EncodedString()] {
            #expect(throws: WebhookConfigurationError.self) { try WebhookConfiguration.secret(bad) }
        }
    }

    @Test func endpointsAreCheckedAndRedacted() throws {
        let endpoints = try WebhookConfiguration.endpoints(" https://hooks.example.com/pulse?token=abc , http://[::1]:8080/h ")
        #expect(endpoints.map(\.redacted) == ["https://hooks.example.com/pulse", "http://[::1]:8080/h"])
        #expect(endpoints.map(\.host) == ["hooks.example.com", "::1"])
        #expect(endpoints[0].key != endpoints[1].key && endpoints[0].key.count == 24)
        for bad in ["ftp://example.com/", "https://user:pass@example.com/", "example.com/hook", "https:///nohost", "https://a.example/#x",
                    "https://a.example/, https://a.example/", "  ,  "] {
            #expect(throws: WebhookConfigurationError.self, "\(bad)") { try WebhookConfiguration.endpoints(bad) }
        }
    }

    @Test func settingsAreReadOnceAndBadValuesNamedWithoutTheirSecrets() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let good = try PulseConfiguration(environment: [
            "PULSE_WEBHOOK_URL": "https://a.example/h,https://b.example/h", "PULSE_WEBHOOK_SECRET": secret, "PULSE_WEBHOOK_ALLOW_PRIVATE": "1",
        ])
        #expect(good.webhooks.endpoints.count == 2 && good.webhooks.secret.count == 24 && good.webhooks.allowPrivateAddresses)
        #expect(try PulseConfiguration(environment: [:]).webhooks.endpoints.isEmpty)

        func problems(_ environment: [String: String]) -> [String] {
            do { _ = try PulseConfiguration(environment: environment); return [] } catch { return error.problems }
        }
        let noSecret = problems(["PULSE_WEBHOOK_URL": "https://a.example/h?token=SECRETTOKEN"])
        #expect(noSecret.count == 1 && noSecret[0].hasPrefix("PULSE_WEBHOOK_SECRET "))
        let both = problems(["PULSE_WEBHOOK_URL": "ftp://a.example/h?token=SECRETTOKEN", "PULSE_WEBHOOK_SECRET": "whsec_c2hvcnQ="])
        #expect(both.count == 2, "\(both)")
        #expect(both.contains { $0.hasPrefix("PULSE_WEBHOOK_URL ") } && both.contains { $0.hasPrefix("PULSE_WEBHOOK_SECRET ") })
        #expect(!both.joined().contains("SECRETTOKEN") && !both.joined().contains("c2hvcnQ"))
        #expect(problems(["PULSE_WEBHOOK_ALLOW_PRIVATE": "maybe"]).count == 1)
    }

    @Test(arguments: [
        ("8.8.8.8", "global"), ("1.1.1.1", "global"), ("0.0.0.0", "unspecified"), ("10.1.2.3", "private"), ("100.64.0.1", "private"),
        ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("169.254.169.254", "link_local"), ("172.16.0.1", "private"),
        ("172.31.255.255", "private"), ("172.32.0.1", "global"), ("192.168.1.1", "private"), ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"), ("198.18.0.1", "reserved"),
        ("::", "unspecified"), ("::1", "loopback"), ("fe80::1", "link_local"), ("fc00::1", "unique_local"), ("fd12:3456::1", "unique_local"),
        ("ff02::1", "multicast"), ("2606:4700:4700::1111", "global"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
        ("::ffff:8.8.8.8", "global"), ("::ffff:169.254.169.254", "link_local"), ("64:ff9b::a9fe:a9fe", "link_local"), ("2002:7f00:1::", "loopback"),
        ("::127.0.0.1", "loopback"), ("2001:db8::1", "reserved"),
    ])
    func addressesAreClassified(address: String, scope: String) throws {
        let parsed = try #require(IPAddress(address))
        #expect(parsed.scope.rawValue == scope)
    }

    @Test func theGuardRefusesPrivateHostsUnlessAllowed() async throws {
        let strict = AddressPolicy(allowPrivate: false)
        for host in ["127.0.0.1", "::1", "localhost", "169.254.169.254", "::ffff:127.0.0.1"] {
            await #expect(throws: AddressPolicy.Refusal.self, "\(host)") { _ = try await strict.check(host: host) }
        }
        do {
            _ = try await strict.check(host: "localhost")
            Issue.record("localhost was not refused")
        } catch {
            #expect(error.code == .privateAddress)
        }
        #expect(try await AddressPolicy(allowPrivate: true).check(host: "localhost").scope == .loopback)
        #expect(try await strict.check(host: "8.8.8.8").description == "8.8.8.8")
        await #expect(throws: AddressPolicy.Refusal.self) { _ = try await strict.check(host: "no-such-host.invalid") }
    }

    /// A delivery round through the deliverer: a refused private address and a closed port are
    /// both recorded attempts, not deliveries, and the message is scheduled again within 5 s.
    @Test(arguments: [false, true])
    func roundsRecordEveryAttemptAndScheduleTheRetry(allowPrivate: Bool) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-webhooks-\(UUID().uuidString.lowercased())").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = PulseConfiguration(dataDirectory: data)
        // Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
        configuration.webhooks.endpoints = try WebhookConfiguration.endpoints("http://127.0.0.1:9/hook?token=t")
        configuration.webhooks.secret = Array(repeating: 1, count: 32)
        configuration.webhooks.allowPrivateAddresses = allowPrivate
        try configuration.runtime.makeDirectories()
        _ = try await withDatabase(url: configuration.runtime.databaseURL, logger: TestServices.logger) { try await migrate($0, logger: TestServices.logger) }
        let runtime = try PulseRuntime(configuration: configuration.runtime, logger: TestServices.logger)
        let settings = configuration
        try await runtime.run { runtime in
            let assets = AssetRepository(database: runtime.database)
            let asset = try await assets.create(NewAsset(status: .queued, filename: "a.mp4"))
            #expect(try await assets.markReady(asset.id))
            let deliverer = try WebhookDeliverer.make(
                api: settings.api, webhooks: settings.webhooks, runtime: runtime, boundAddress: nil, prunes: false, logger: TestServices.logger)
            let outbox = WebhookOutbox(database: runtime.database)
            let message = try #require(try await outbox.claim(owner: deliverer.owner, leaseSeconds: deliverer.leaseSeconds))
            // The deliverer's own claim is what it finishes: same owner.
            let before = Date().timeIntervalSince1970
            await deliverer.deliver(message)
            let delivery = try #require(try await outbox.deliveries(assetID: asset.id).first)
            #expect(delivery.status == "pending")
            let attempt = try #require(delivery.attempts.first)
            #expect(delivery.attempts.count == 1)
            #expect(attempt.endpoint == "http://127.0.0.1:9/hook")
            #expect(attempt.statusCode == nil)
            #expect(attempt.outcome == (allowPrivate ? .failed : .refused))
            #expect(attempt.error == (allowPrivate ? "connect" : "private_address"))
            let next = try #require(delivery.nextAttemptAt)
            #expect(next >= before && next <= Date().timeIntervalSince1970 + 5)
        }
    }
}
