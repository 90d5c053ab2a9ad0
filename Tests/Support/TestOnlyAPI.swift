public import Foundation
import PulseDatabase
public import PulseJobs

// What tests need to look at or arrange that production code never does. Each runs the SQL itself
// (or reads package-visible state), so the production types carry none of it.

extension AssetRepository {
    /// Sets the status as given, with no guard (production moves status only through `beginAttempt`,
    /// `markUploaded`, `markReady` and `fail`).
    @discardableResult
    public func setStatus(_ id: UUID, _ status: AssetStatus) async throws -> Bool {
        try await self.database.execute(
            "UPDATE assets SET status = $2, updated_at = $3 WHERE id = $1",
            [.text(id.uuidString.lowercased()), .text(status.rawValue), .double(self.clock.now())]
        ) > 0
    }

    /// Marks one rung's playlist complete in `hls_parts`.
    @discardableResult
    public func markHLSPart(_ id: UUID, rung: String) async throws -> Bool {
        try await self.markHLSParts(id, rungs: [rung])
    }
}

extension InProcessEventBus {
    /// How many subscribers an asset has now.
    public func subscriberCount(assetID: UUID) -> Int {
        self.registry.count(assetID: assetID)
    }
}

extension PostgresEventBus {
    /// How many local subscribers an asset has now.
    public func subscriberCount(assetID: UUID) -> Int {
        self.registry.count(assetID: assetID)
    }

    /// True while the LISTEN connection is up.
    public var isListening: Bool { self.listening.isReady }

    /// Waits until the LISTEN connection is up, at most `timeout`; true when it is.
    public func waitUntilListening(timeout: Duration) async -> Bool {
        await self.listening.wait(timeout: timeout)
    }
}
