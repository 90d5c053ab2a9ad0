import Hummingbird
import Logging
import PulseJobs

/// Turns every error into the API's JSON error body, so clients never see an empty 500 or a
/// framework message, and logs what went wrong for the operator.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The registered routes, to tell "no such path" (404) from "not with this method" (405).
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            // Only the router throws Hummingbird's own 404 (routes throw `APIError`): the path
            // matched no route with this method. With another method it is a 405 naming them.
            guard let methods = routes.methods(for: request.uri.path), !methods.contains(request.method) else {
                return try APIError(.notFound, "not found").response(from: request, context: context)
            }
            let allow = methods.map(\.rawValue).sorted().joined(separator: ", ")
            return try APIError(.methodNotAllowed, "this path answers \(allow)", headers: [.allow: allow]).response(from: request, context: context)
        } catch {
            let apiError = Self.translate(error)
            if apiError.code == .internalError || apiError.code == .storageUnavailable {
                context.logger.error(
                    "request failed",
                    metadata: ["http.path": "\(LoggedPath.redacted(request.uri.path))", "error": "\(String(reflecting: error))"]
                )
            }
            return try apiError.response(from: request, context: context)
        }
    }

    /// Hummingbird's own errors by their status; the asset lifecycle's refusals by their code;
    /// every other error by the service's one translation (`FailureTranslator`, the same the jobs
    /// use), answered with the status of its code. A failure that is not an HTTP answer is
    /// internal: its detail goes to the log only.
    static func translate(_ error: any Error) -> APIError {
        if let refusal = error as? AssetLifecycleError { return APIError(refusal) }
        if let http = error as? HTTPError {
            switch http.status {
            case .notFound: return APIError(.notFound, "not found")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method not allowed")
            case .contentTooLarge: return APIError(.uploadTooLarge, "the request body is too large")
            case .badRequest: return APIError(.invalidRequest, "bad request")
            case .unauthorized: return APIError(.unauthorized, "authentication required")
            default: return APIError(.internalError, "internal error")
            }
        }
        switch FailureTranslator.translate(error).code {
        case .notFound: return APIError(.notFound, "not found")
        case .storageUnavailable: return APIError(.storageUnavailable, "storage is unavailable; try again later")
        default: return APIError(.internalError, "internal error")
        }
    }
}
