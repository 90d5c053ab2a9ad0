import Foundation
public import PulseMedia

/// The pipeline's records on an asset, typed: `probe_json` and `plan_json` are read against
/// `ProbeResult` and `PipelinePlan` here and nowhere else.
extension Asset {
    /// The probed source (`probe_json`); nil before `prepare` probed it.
    public func probe() throws -> ProbeResult? {
        try probeJSON.map { try JSONDecoder().decode(ProbeResult.self, text: $0) }
    }

    /// The plan every job of the asset follows (`plan_json`); nil before `prepare` fixed it.
    /// Plans of every stored layout decode into the one model (`WorkUnit`).
    public func plan() throws -> PipelinePlan? {
        try planJSON.map { try JSONDecoder().decode(PipelinePlan.self, text: $0) }
    }
}
