import Foundation
import Testing

@testable import PulseAPI

/// The hand-written server against its contract: the `/v1` operations it serves are exactly the
/// ones docs/openapi.yaml describes, and what a client meets beside the bodies (405 with `Allow`,
/// CORS for `Idempotency-Key`, a content type inferred from the filename) holds on a live server.
/// The bodies themselves are held to the document by the generated client (Tests/Client), whose
/// decoders refuse a missing or undocumented field, and by `UnknownFieldTests` for requests.
@Suite("The served API against docs/openapi.yaml")
struct ContractTests {
    @Test("every /v1 operation served is documented, and every documented one is served")
    func routesMatchTheDocument() async throws {
        let documented = Set(try OpenAPIDocument.load().operations(under: "/v1").map(Self.normalised))
        #expect(documented.count >= 10, "read \(documented.count) operations from the document")
        try await TestServer.with(worker: false) { server in
            var served: Set<String> = []
            for route in server.server.routes.all where route.path.hasPrefix("/v1/") || route.path == "/v1" {
                for method in route.methods where method != .head && method != .options {
                    served.insert(Self.normalised("\(method.rawValue) \(route.path)"))
                }
            }
            #expect(served.subtracting(documented).sorted() == [], "served but not in docs/openapi.yaml")
            #expect(documented.subtracting(served).sorted() == [], "in docs/openapi.yaml but not served")
        }
    }

    @Test("a known path with another method is 405 naming the methods it answers; an unknown path is 404")
    func methodNotAllowed() async throws {
        try await TestServer.with(worker: false) { server in
            let collection = try await send(.DELETE, "\(server.baseURL)/v1/assets", bearer: server.apiKey)
            #expect(collection.status == 405 && collection.errorCode == "ERR_METHOD_NOT_ALLOWED")
            #expect(collection.headers["Allow"].first == "GET, HEAD, POST")
            let one = try await send(.PUT, "\(server.baseURL)/v1/assets/\(UUID().uuidString.lowercased())", bearer: server.apiKey)
            #expect(one.status == 405 && one.headers["Allow"].first == "DELETE, GET, HEAD")
            let unknown = try await send(.GET, "\(server.baseURL)/v1/nothing-here", bearer: server.apiKey)
            #expect(unknown.status == 404 && unknown.headers["Allow"].isEmpty)
        }
    }

    @Test("a browser may send Idempotency-Key cross-origin, and read Content-Disposition")
    func corsPreflight() async throws {
        try await TestServer.with(worker: false) { server in
            let preflight = try await send(.OPTIONS, "\(server.baseURL)/v1/assets", headers: [
                ("Origin", "https://chat.example"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, content-type, idempotency-key"),
            ])
            #expect(preflight.status < 300)
            let allowed = preflight.headers["Access-Control-Allow-Headers"].joined(separator: ",").lowercased()
            #expect(allowed.contains("idempotency-key"), "\(allowed)")
            let exposed = try await send(.GET, "\(server.baseURL)/healthz", headers: [("Origin", "https://chat.example")])
            #expect(exposed.headers["Access-Control-Expose-Headers"].joined(separator: ",").contains("Content-Disposition"))
        }
    }

    @Test("a create without content_type takes it from the filename's extension", arguments: [
        ("clip.mov", "video/quicktime"), ("CLIP.MP4", "video/mp4"), ("take.webm", "video/webm"),
        ("film.mkv", "video/x-matroska"), ("noextension", "application/octet-stream"),
    ])
    func contentTypeFromFilename(_ filename: String, _ expected: String) async throws {
        try await TestServer.with(worker: false) { server in
            let created = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey, body: json(["filename": filename]))
            #expect(created.status == 201)
            let headers = (created.json["upload"] as? [String: Any])?["headers"] as? [String: String]
            #expect(headers?["Content-Type"] == expected, "\(created.text)")
        }
    }

    @Test("each JSON request body takes exactly the fields its schema documents")
    func requestBodiesMatchTheDocument() throws {
        let document = try OpenAPIDocument.load()
        let bodies: [(String, String, Set<String>)] = [
            ("POST", "/v1/assets", Self.fields(AssetRoutes.CreateRequest.self)),
            ("POST", "/v1/assets/{id}/complete", Self.fields(MultipartRoutes.CompleteRequest.self)),
            ("POST", "/v1/assets/{id}/upload/parts", Self.fields(MultipartRoutes.PartsRequest.self)),
            ("POST", "/v1/assets/{id}/playback-tokens", Self.fields(PlaybackTokenRoute.MintRequest.self)),
        ]
        for (method, path, accepted) in bodies {
            let documented = try #require(document.requestFields(method, path), "\(method) \(path) documents no JSON body")
            #expect(accepted == documented, "\(method) \(path): the server takes \(accepted.sorted()), the document lists \(documented.sorted())")
        }
    }

    private static func fields<T: StrictJSONBody>(_ type: T.Type) -> Set<String> {
        Set(T.Fields.allCases.map(\.stringValue))
    }

    /// `METHOD /path` with every parameter spelt `{}`: the router and the document may name them apart.
    static func normalised(_ operation: String) -> String {
        operation.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "{}" : String($0) }.joined(separator: "/")
    }
}
