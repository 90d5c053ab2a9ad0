import HTTPTypes
import Hummingbird

/// Adds `Access-Control-Expose-Headers` to every cross-origin answer. The Fetch standard reads it
/// on the actual response, not the preflight; Hummingbird's `CORSMiddleware` sends it on the
/// preflight only, so without this a page could not read `Content-Range` or `Content-Disposition`.
struct ExposedHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The headers a page may read, as one field value.
    let exposed: String

    init(_ names: [String]) { self.exposed = names.joined(separator: ", ") }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if request.headers[.origin] != nil, request.method != .options {
            response.headers[.accessControlExposeHeaders] = exposed
        }
        return response
    }
}
