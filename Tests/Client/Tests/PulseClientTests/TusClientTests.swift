import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenAPIRuntime
import Testing

/// A tus upload through the generated client: the create answers the `tus` upload object; the
/// bytes go to its URL by tus 1.0.0 (outside the contract, so plain URLSession, as a tus client
/// would send them); the last byte queues processing with no `complete`, and a `complete`
/// afterwards is accepted and changes nothing.
@Suite(.serialized)
struct TusClientTests {
    @Test("tus upload: create with upload_type tus, HEAD, one PATCH, ready without complete")
    func tusUpload() async throws {
        try await LiveServer.with { server in
            let api = server.client()
            let bytes = try LiveServer.clip("sd_480p.mp4")
            let asset = try await api.createAsset(body: .json(.init(
                filename: "tus.mp4", size: bytes.count, content_type: "video/mp4", upload_type: .tus
            ))).created.body.json
            guard case .case3(let upload) = asset.upload else {
                throw Failure("a tus create answered \(asset.upload)")
            }
            #expect(upload.method == .tus)
            #expect(upload.url.contains("/tus/\(asset.id)?token="))

            let (headStatus, offset) = try await tus("HEAD", upload.url)
            #expect(headStatus == 200 && offset == "0")
            let (patchStatus, newOffset) = try await tus("PATCH", upload.url, offset: 0, body: bytes)
            #expect(patchStatus == 204 && newOffset == String(bytes.count))

            let ready = try await api.waitUntilReady(asset.id)
            #expect(ready.size == bytes.count)
            let completed = try await server.client(bearer: asset.token).completeAsset(path: .init(id: asset.id)).accepted.body.json
            #expect(completed.status == .ready)
        }
    }

    /// One tus request; returns the status and `Upload-Offset`.
    private func tus(_ method: String, _ url: String, offset: Int? = nil, body: Data? = nil) async throws -> (Int, String?) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("1.0.0", forHTTPHeaderField: "Tus-Resumable")
        if let offset {
            request.setValue(String(offset), forHTTPHeaderField: "Upload-Offset")
            request.setValue("application/offset+octet-stream", forHTTPHeaderField: "Content-Type")
        }
        let response: URLResponse
        if let body {
            (_, response) = try await URLSession.shared.upload(for: request, from: body)
        } else {
            (_, response) = try await URLSession.shared.data(for: request)
        }
        let http = response as! HTTPURLResponse
        return (http.statusCode, http.value(forHTTPHeaderField: "Upload-Offset"))
    }
}
