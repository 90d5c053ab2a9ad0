import NIOCore
import NIOPosix
@testable import PulseAPI
import Synchronization
import PulseTestSupport
import Testing

/// Upgrades are decided at most `limit` at once; the others wait their turn, in order, and each
/// one's answer (or error) reaches its own connection.
@Suite("Upgrade decisions")
struct UpgradeDecisionsTests {
    /// A gate each decision waits at until the test opens it.
    final class Gates: Sendable {
        private let opened = Mutex<Set<Int>>([])
        private let started = Mutex<[Int]>([])

        var order: [Int] { started.withLock { $0 } }

        func pass(_ index: Int) async throws {
            started.withLock { $0.append(index) }
            while !opened.withLock({ $0.contains(index) }) { try await Task.sleep(for: .milliseconds(2)) }
        }

        func open(_ index: Int) { _ = opened.withLock { $0.insert(index) } }
    }

    @Test func atMostTheLimitAtOnceThenInOrder() async throws {
        let decisions = UpgradeDecisions(limit: 2)
        let gates = Gates()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        struct Refused: Error {}
        let answers = (0..<6).map { index in
            decisions.run(on: loop) { () async throws -> Int in
                try await gates.pass(index)
                if index == 3 { throw Refused() }
                return index * 10
            }
        }
        try await waitUntil("two decisions to start") { gates.order.count == 2 }
        #expect(decisions.counts == (running: 2, waiting: 4))
        #expect(gates.order == [0, 1])

        // Each that ends lets the next waiting one in, never more than two running.
        for index in 0..<6 {
            gates.open(index)
            if index == 3 {
                await #expect(throws: Refused.self) { try await answers[index].get() }
            } else {
                #expect(try await answers[index].get() == index * 10)
            }
            #expect(decisions.counts.running <= 2)
        }
        #expect(gates.order == Array(0..<6))
        try await waitUntil("every place to be given back") { decisions.counts == (running: 0, waiting: 0) }
    }
}
