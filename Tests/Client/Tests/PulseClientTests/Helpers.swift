import Foundation
import OpenAPIRuntime

typealias Asset = Components.Schemas.Asset

extension Client {
    /// The asset as `getAsset` answers it (200), or a failure naming what came instead.
    func asset(_ id: String) async throws -> Asset {
        try await getAsset(path: .init(id: id)).ok.body.json
    }

    /// Polls `getAsset` until the asset is `ready` (returned) or `failed`, or 180 s passed.
    func waitUntilReady(_ id: String) async throws -> Asset {
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            let asset = try await asset(id)
            switch asset.status {
            case .ready: return asset
            case .failed: throw Failure("asset \(id) failed: \(String(describing: asset.error))")
            case .awaiting_upload, .queued, .processing: try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw Failure("asset \(id) was not ready within 180 s")
    }
}

extension Components.Responses._Error {
    /// The documented error's `code` (decoding the body as the `Error` schema).
    var code: String {
        get throws { try body.json.error.code }
    }
}
