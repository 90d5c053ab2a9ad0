import Hummingbird
import Logging
import PulseJobs
import PulseStorage

/// Turns every error into the API's JSON error body, so clients never see an empty 500 or a
/// framework message, and logs what went wrong for the operator.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch {
            let apiError = Self.translate(error)
            if apiError.code == .internalError {
                context.logger.error(
                    "request failed",
                    metadata: ["http.path": "\(LoggedPath.redacted(request.uri.path))", "error": "\(String(reflecting: error))"]
                )
            }
            return try apiError.response(from: request, context: context)
        }
    }

    /// Maps framework, asset lifecycle and storage errors onto our codes; anything else is internal.
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
        if let storage = error as? StorageError {
            switch storage.code {
            case .notFound, .invalidKey: return APIError(.notFound, "not found")
            case .unreachable: return APIError(.unavailable, "storage is unreachable; try again later")
            default: return APIError(.internalError, "internal error")
            }
        }
        return APIError(.internalError, "internal error")
    }
}
