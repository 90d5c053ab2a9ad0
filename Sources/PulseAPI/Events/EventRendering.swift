import Foundation
import PulseJobs

/// The text of the events route's messages: the snapshot of an asset and each event as a client
/// reads it. Object keys become URLs (with a playback token for a signed asset), `ready` carries
/// the asset as stored at that moment.
struct EventRendering: Sendable {
    let assets: AssetRepository
    let links: Links

    /// The first message of every socket: the asset as it is.
    func snapshot(_ asset: Asset, base: String) async throws -> String {
        try JSON.text(EventMessage.snapshot(try await AssetResource.make(asset, links: links, base: base)))
    }

    /// The message for an event of `asset` (whose passthrough and playback policy never change).
    func text(for event: AssetEvent, of asset: Asset, base: String) async throws -> String {
        var message = EventMessage(type: event.type.rawValue)
        message.emittedAt = event.at
        message.passthrough = asset.passthrough
        switch event.type {
        case .status:
            message.status = event.status?.rawValue
        case .thumbnailReady:
            if let key = event.thumbnailKey {
                message.thumbnailURL = try await links.thumbnailURL(
                    assetID: event.assetID, key: key, base: base, token: links.playbackToken(for: asset)?.token)
            }
            message.placeholder = event.placeholder
        case .playable:
            message.playlistURL = links.playlistURL(assetID: event.assetID, base: base, token: links.playbackToken(for: asset)?.token, early: true)
        case .progress:
            message.percent = event.percent.map { min(100, $0).oneDecimal }
            message.etaSeconds = event.etaSeconds.map { max(0, $0).oneDecimal }
            message.speed = event.speed.map { ($0 * 100).rounded() / 100 }
        case .ready:
            message.percent = 100
            if let stored = try await assets.get(event.assetID) {
                message.asset = try await AssetResource.make(stored, links: links, base: base)
            }
        case .failed:
            message.error = AssetResource.ErrorDetail(recordedCode: event.errorCode, message: event.errorMessage)
        }
        return try JSON.text(message)
    }
}
