import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each registered path answers, read from the router once its routes are in, so that
/// a known path asked with another method gets 405 and an `Allow` header (RFC 9110 15.5.6) rather
/// than the router's 404. It is also the list a test holds against the OpenAPI document.
final class RouteTable: Sendable {
    /// One registered path, as the router spells it (`/v1/assets/{id}`), and its methods.
    struct Route: Sendable, Equatable {
        var path: String
        var methods: Set<HTTPRequest.Method>
    }

    private let routes = Mutex<[Route]>([])

    /// Adds a router's routes (the server has two: HTTP and WebSocket upgrades); HEAD is
    /// answered wherever GET is (Hummingbird adds it).
    func record<Context>(_ router: Router<Context>) {
        routes.withLock { table in
            var byPath = Dictionary(table.map { ($0.path, $0.methods) }, uniquingKeysWith: { $0.union($1) })
            for route in router.routes {
                byPath[route.path.description, default: []].insert(route.method)
                if route.method == .get { byPath[route.path.description]?.insert(.head) }
            }
            table = byPath.map { Route(path: $0, methods: $1) }.sorted { $0.path < $1.path }
        }
    }

    /// Every path and its methods, sorted by path.
    var all: [Route] { routes.withLock { $0 } }

    /// The methods `path` answers, or nil when no route matches it. A literal segment matches
    /// itself, `{name}` and `*` any one segment, `**` everything after it.
    func methods(for path: String) -> Set<HTTPRequest.Method>? {
        let asked = path.split(separator: "/", omittingEmptySubsequences: true)
        var found: Set<HTTPRequest.Method>?
        for route in all where Self.matches(route.path, asked) {
            found = (found ?? []).union(route.methods)
        }
        return found
    }

    private static func matches(_ pattern: String, _ asked: [Substring]) -> Bool {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        for (index, part) in parts.enumerated() {
            if part == "**" { return asked.count > index }
            guard index < asked.count else { return false }
            if part == "*" || (part.hasPrefix("{") && part.hasSuffix("}")) { continue }
            guard part == asked[index] else { return false }
        }
        return parts.count == asked.count
    }
}
