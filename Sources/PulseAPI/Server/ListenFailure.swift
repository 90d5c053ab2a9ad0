import Foundation
import NIOCore

extension PulseServer {
    /// `host:port` as the server is told to listen on it (an IPv6 host in brackets), for messages.
    public var listenAddress: String { APIConfiguration.authority(host: configuration.host, port: configuration.port) }

    /// Why the server could not listen, in an operator's words (the system's reason, such as
    /// "Address already in use"), when `error` is a failed bind or an address that does not
    /// resolve; nil for any other error.
    public static func listenProblem(_ error: any Error) -> String? {
        switch error {
        case let error as IOError: String(cString: strerror(error.errnoCode))
        case let error as SocketAddressError.UnknownHost: "the host does not resolve (\(error.errorDescription))"
        default: nil
        }
    }
}

extension APIConfiguration {
    /// `host:port` as a URL spells it: an IPv6 host in brackets.
    static func authority(host: String, port: Int) -> String {
        "\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}
