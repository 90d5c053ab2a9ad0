@testable import PulseAPI
import Testing

/// What the services of `serve` wait for before they start: the server's bind.
@Suite("Bound address")
struct BoundAddressTests {
    @Test("waiters are released by the bind; a waiter cancelled first ends without it")
    func waiting() async throws {
        let address = BoundAddress()
        let waiter = Task { try await address.bound() }
        let cancelled = Task { try await address.bound() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(address.url == nil)

        address.set("http://127.0.0.1:8080")
        #expect(try await waiter.value == "http://127.0.0.1:8080")
        #expect(try await address.bound() == "http://127.0.0.1:8080", "once bound, no wait")
    }
}
