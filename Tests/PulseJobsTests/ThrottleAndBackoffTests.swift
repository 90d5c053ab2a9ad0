import PulseJobs
import PulseSupport
import Testing

@Suite struct ProgressThrottleTests {
    /// Feeds a sequence and returns, per report, "n" notify, "p" persist, "np" both, "-" neither.
    static func run(_ percents: [Double], start: Double = 0) -> [String] {
        var throttle = ProgressThrottle(start: start)
        return percents.map { percent in
            let decision = throttle.record(percent)
            let text = (decision.notify ? "n" : "") + (decision.persist ? "p" : "")
            return text.isEmpty ? "-" : text
        }
    }

    @Test func notifiesEveryTwoPointsAndPersistsEveryTen() {
        // The two thresholds count from their own last value: at 10 the database is
        // due (10 since 0) but subscribers are not (0.1 since 9.9).
        #expect(
            Self.run([0.5, 1.9, 2, 3.9, 4, 5, 9.9, 10, 11, 12, 19.99, 20, 21])
                == ["-", "-", "n", "-", "n", "-", "n", "p", "-", "n", "n", "p", "-"]
        )
        #expect(Self.run([2, 4, 6, 8, 10, 12]) == ["n", "n", "n", "n", "np", "n"])
    }

    @Test func lowerValuesAreIgnored() {
        #expect(Self.run([30, 12, 25, 31, 32, 40]) == ["np", "-", "-", "-", "n", "np"])
    }

    @Test func hundredNotifiesAndPersistsExactlyOnce() {
        #expect(Self.run([99.5, 100, 100, 120, 99]) == ["np", "np", "-", "-", "-"])
        #expect(Self.run([100.7]) == ["np"])
    }

    @Test func aResumedJobStartsFromTheStoredProgress() {
        #expect(Self.run([41, 42, 49, 50, 51], start: 40) == ["-", "n", "n", "p", "n"])
    }

    @Test func countsOverAFullRunInTenthsOfAPercent() {
        var throttle = ProgressThrottle()
        var notified = 0
        var persisted = 0
        for tenth in 0...1000 {
            let decision = throttle.record(Double(tenth) / 10)
            if decision.notify { notified += 1 }
            if decision.persist { persisted += 1 }
        }
        #expect(notified == 50)
        #expect(persisted == 10)
    }
}

@Suite struct RetryPolicyTests {
    @Test func jobCeilingsDoubleFromTwoSecondsUpToFiveMinutes() {
        let backoff = RetryPolicy.jobFailure
        #expect((1...10).map { backoff.ceiling(afterAttempt: $0) } == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300])
        #expect(backoff.ceiling(afterAttempt: 10_000) == 300)
        #expect(backoff.ceiling(afterAttempt: 0) == 2)
    }

    @Test func fullJitterScalesTheCeilingByTheInjectedRandom() {
        #expect(RetryPolicy(base: 2, cap: 300, random: { 0 }).delay(afterAttempt: 3) == 0)
        #expect(RetryPolicy(base: 2, cap: 300, random: { 0.25 }).delay(afterAttempt: 3) == 2)
        #expect(RetryPolicy(base: 2, cap: 300, random: { 0.5 }).delay(afterAttempt: 20) == 150)
        #expect(RetryPolicy(base: 2, cap: 300, random: { 7 }).delay(afterAttempt: 1) == 2)
    }

    @Test func outageWaitsGrowByAQuarterOfTheOutageToFifteenSecondsWithEqualJitter() {
        var outage = RetryPolicy.storageOutage
        outage.random = { 1 }
        #expect([0, 4, 20, 56, 1000].map { outage.delay(afterAttempt: 1, failingFor: $0) } == [1, 2, 6, 15, 15])
        outage.random = { 0 }
        #expect([0, 4, 20, 56, 1000].map { outage.delay(afterAttempt: 9, failingFor: $0) } == [0.5, 1, 3, 7.5, 7.5])
    }

    @Test func queueWritesDoubleFromAQuarterSecondToFiveWithoutJitter() {
        let writes = RetryPolicy.queueWrite
        #expect((1...7).map { writes.wait(afterAttempt: $0) }
            == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5)])
        #expect((1...3).map { RetryPolicy.heartbeat.wait(afterAttempt: $0) } == [.seconds(1), .seconds(1), .seconds(1)])
    }
}
