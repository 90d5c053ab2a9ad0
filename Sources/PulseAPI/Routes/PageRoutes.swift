import Foundation
import Hummingbird
import NIOCore

/// The upload page: `Page/` from the resource bundle, read once at start-up (a few kilobytes).
/// `/` is `index.html`; its script and style are `/page/app.js` and `/page/style.css`.
///
/// Every file goes with a Content-Security-Policy (``PagePolicy``) and `Referrer-Policy:
/// no-referrer`: the page's URLs carry tokens, which no request it makes may pass on.
struct PageRoutes: Sendable {
    let files: [String: (bytes: ByteBuffer, type: String)]
    let policy: PagePolicy

    /// Loads the page's files; a missing bundle is a build problem, reported at start-up.
    static func load(links: Links) throws -> PageRoutes {
        guard let folder = Bundle.module.url(forResource: "Page", withExtension: nil) else {
            throw APIError(.internalError, "the page's resource bundle is missing")
        }
        var files: [String: (ByteBuffer, String)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !name.hasPrefix(".") {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            files[name] = (ByteBuffer(bytes: data), Self.type(of: name))
        }
        return PageRoutes(files: files, policy: PagePolicy(links: links))
    }

    func register(on router: Router<some RequestContext>) {
        router.get("/") { request, _ in try await self.file("index.html", for: request) }
        router.get("page/:name") { request, context in try await self.file(context.parameters.get("name") ?? "", for: request) }
    }

    private func file(_ name: String, for request: Request) async throws -> Response {
        guard let file = files[name] else { throw APIError(.notFound, "not found") }
        return Response(
            status: .ok,
            headers: [
                .contentType: file.type, .cacheControl: "no-cache",
                .xContentTypeOptions: "nosniff",
                .contentSecurityPolicy: try await policy.header(for: request),
                PagePolicy.referrerPolicy: "no-referrer",
            ],
            body: .init(byteBuffer: file.bytes)
        )
    }

    private static func type(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        default: return "application/octet-stream"
        }
    }
}
