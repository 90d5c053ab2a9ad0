import Foundation
@testable import PulseAPI
import PulseTestSupport
import Testing

/// A request body's fields are exactly the documented ones: a field the API does not know is a 400
/// naming it, never a silent default.
@Suite("Unknown fields")
struct UnknownFieldTests {
    @Test("a misspelt create option is refused, not ignored, and nothing is created")
    func misspeltOptionIsRefused() async throws {
        try await TestServer.with(worker: false) { server in
            let base = server.baseURL
            // Mux's spelling of our playback_policy: taken silently, it would make a public asset.
            let refused = try await send(.POST, "\(base)/v1/assets", bearer: server.apiKey,
                                         body: json(["filename": "a.mp4", "playback_policies": ["signed"]]))
            #expect(refused.status == 400)
            let error = refused.json["error"] as? [String: Any]
            #expect(error?["code"] as? String == "ERR_INVALID_REQUEST")
            #expect(error?["message"] as? String == "unknown field playback_policies")
            let list = try await send(.GET, "\(base)/v1/assets", bearer: server.apiKey)
            #expect((list.json["assets"] as? [Any])?.isEmpty == true, "\(list.text)")

            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let mint = try await send(.POST, "\(base)/v1/assets/\(id)/playback-tokens", bearer: server.apiKey,
                                      body: json(["ttl": 120]))
            #expect(mint.status == 400 && (mint.json["error"] as? [String: Any])?["message"] as? String == "unknown field ttl")
        }
    }
}
