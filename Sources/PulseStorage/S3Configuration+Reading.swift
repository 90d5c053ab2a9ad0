public import PulseSupport
import SigV4

extension S3Configuration {
    /// Reads the usual AWS variables: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with
    /// `AWS_SESSION_TOKEN`), `AWS_REGION` (else `AWS_DEFAULT_REGION`, else `us-east-1`) and the
    /// endpoint, `AWS_ENDPOINT_URL_S3` (else `AWS_ENDPOINT_URL`), which implies path-style
    /// addressing. Returns the settings (nil without a key pair) and the endpoint, checked to be an
    /// http(s) URL; a bad endpoint is recorded in `settings`.
    public static func read(_ settings: inout SettingsReader) -> (configuration: S3Configuration?, endpoint: String?) {
        let endpointVariable = settings.given(flag: nil, variable: "AWS_ENDPOINT_URL_S3") != nil ? "AWS_ENDPOINT_URL_S3" : "AWS_ENDPOINT_URL"
        let endpoint = settings.httpURL(variable: endpointVariable)
        guard let keyID = settings.text(variable: "AWS_ACCESS_KEY_ID"), let secret = settings.text(variable: "AWS_SECRET_ACCESS_KEY") else {
            return (nil, endpoint)
        }
        let configuration = S3Configuration(
            credentials: SigV4Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: settings.text(variable: "AWS_SESSION_TOKEN")),
            region: settings.text(variable: "AWS_REGION") ?? settings.text(variable: "AWS_DEFAULT_REGION") ?? "us-east-1",
            endpoint: endpoint)
        return (configuration, endpoint)
    }
}
