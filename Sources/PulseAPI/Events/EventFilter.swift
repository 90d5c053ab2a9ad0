import PulseJobs

/// Decides which of an asset's events one WebSocket connection passes on, so that what a page sees
/// is a clean story whatever the bus delivers: progress only rises, in steps of at least
/// `minimumStep` points (and 100 once); the thumbnail once; `playable` once, after the
/// thumbnail; one terminal event, then nothing.
///
/// Several workers encode one asset's chunks at once, so their progress reports can arrive out of
/// order; a LISTEN reconnect can drop some. Pure and synchronous: one per connection.
struct EventFilter: Sendable, Hashable {
    /// Points of progress between two progress messages.
    let minimumStep: Double
    /// The highest percent this connection has sent (or shown in its snapshot).
    private(set) var lastPercent: Double
    private(set) var thumbnailSent: Bool
    private(set) var playableSent: Bool
    /// A terminal event has been sent: nothing follows.
    private(set) var finished: Bool

    /// A filter starting from the snapshot the connection opened with.
    init(snapshot: Asset, minimumStep: Double = 2) {
        self.minimumStep = minimumStep
        self.lastPercent = snapshot.progress
        self.thumbnailSent = snapshot.thumbnailKey != nil
        self.playableSent = snapshot.playableAt != nil
        self.finished = false
    }

    /// Whether to send this event; records it when so.
    mutating func admit(_ event: AssetEvent) -> Bool {
        guard !finished else { return false }
        switch event.type {
        case .status:
            // Terminal states arrive as `ready` / `failed` events with their details.
            guard let status = event.status, !status.isTerminal else { return false }
            return true
        case .thumbnailReady:
            guard !thumbnailSent, event.thumbnailKey != nil else { return false }
            thumbnailSent = true
            return true
        case .playable:
            guard !playableSent else { return false }
            playableSent = true
            return true
        case .progress:
            guard let percent = event.percent else { return false }
            return admitProgress(percent)
        case .ready, .failed:
            finished = true
            return true
        }
    }

    /// Whether a progress value is news: higher by a full step, or the first 100.
    mutating func admitProgress(_ value: Double) -> Bool {
        guard !finished, value.isFinite else { return false }
        let percent = min(100, value)
        let isNews = percent >= 100 ? lastPercent < 100 : percent - lastPercent >= minimumStep
        if isNews { lastPercent = percent }
        return isNews
    }

    /// Events that bring a connection up to the stored state, for when the bus lost some: the
    /// thumbnail, progress and the terminal state, as far as the database knows them.
    mutating func catchUp(with asset: Asset, now: Double) -> [AssetEvent] {
        guard !finished else { return [] }
        var events: [AssetEvent] = []
        if let key = asset.thumbnailKey, !thumbnailSent {
            thumbnailSent = true
            events.append(AssetEvent(assetID: asset.id, type: .thumbnailReady, thumbnailKey: key, placeholder: asset.placeholder, at: now))
        }
        if asset.playableAt != nil, !playableSent, asset.status != .failed {
            playableSent = true
            events.append(AssetEvent(assetID: asset.id, type: .playable, at: now))
        }
        switch asset.status {
        case .ready:
            if admitProgress(100) { events.append(AssetEvent(assetID: asset.id, type: .progress, percent: 100, at: now)) }
            finished = true
            events.append(AssetEvent(assetID: asset.id, type: .ready, percent: 100, status: .ready, at: now))
        case .failed:
            finished = true
            events.append(AssetEvent.failed(asset.id, code: asset.errorCode, message: asset.errorMessage, at: now))
        default:
            if admitProgress(asset.progress) {
                events.append(AssetEvent(assetID: asset.id, type: .progress, percent: asset.progress, at: now))
            }
        }
        return events
    }
}
