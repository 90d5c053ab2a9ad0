import Foundation
import Hummingbird
import Logging

/// One log line per request: method, path, status and duration, at `level` (info in `serve`).
///
/// Hummingbird's `LogRequestsMiddleware` logs `request.uri` whole, query string included; here the
/// query carries secrets (asset tokens `?token=`, local storage signatures `?signature=`, and the
/// presigned S3 parameters relayed by `/media/`), so this logs the path only, and never headers.
/// The line is written once the response head is known (the duration does not include streaming
/// the body); a request that fails past the error middleware is logged with the error's status.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    init(_ level: Logger.Level = .info) {
        self.level = level
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context: context, status: Int(response.status.code), since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, context: context, status: Int(status), since: start)
            throw error
        }
    }

    private func log(_ request: Request, context: Context, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.log(level: level, "request", metadata: [
            "http.method": .string(request.method.rawValue),
            // `uri.path` is the path alone: no query string, so no token or signature; the
            // playback token in a media path is redacted.
            "http.path": .string(LoggedPath.redacted(request.uri.path)),
            "http.status": .stringConvertible(status),
            "http.duration_ms": .string(String(format: "%.1f", milliseconds)),
        ])
    }
}
