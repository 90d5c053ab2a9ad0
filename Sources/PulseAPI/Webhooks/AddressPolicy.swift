import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal (`192.0.2.1`, `::1`; no brackets, no zone).
    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var bytes = self.bytes
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &bytes, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What kind of address this is: only `.global` may be called without the operator's leave.
    var scope: Scope {
        bytes.count == 4 ? Self.scope(v4: bytes) : Self.scope(v6: bytes)
    }

    /// Kinds of address, as the SSRF guard tells them apart.
    enum Scope: String, Sendable {
        case global, unspecified, loopback, privateUse = "private", linkLocal = "link_local"
        case uniqueLocal = "unique_local", multicast, reserved
    }

    private static func scope(v4 b: [UInt8]) -> Scope {
        switch (b[0], b[1], b[2]) {
        case (0, _, _): return .unspecified  // "this network", 0.0.0.0 included
        case (10, _, _): return .privateUse
        case (100, 64...127, _): return .privateUse  // shared address space (carrier-grade NAT)
        case (127, _, _): return .loopback
        case (169, 254, _): return .linkLocal  // cloud metadata services live here
        case (172, 16...31, _): return .privateUse
        case (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113): return .reserved  // protocol assignments, documentation
        case (192, 168, _): return .privateUse
        case (198, 18...19, _): return .reserved  // benchmarking
        case (224...239, _, _): return .multicast
        case (240...255, _, _): return .reserved  // broadcast included
        default: return .global
        }
    }

    private static func scope(v6 b: [UInt8]) -> Scope {
        let allZero = { (range: Range<Int>) in b[range].allSatisfy { $0 == 0 } }
        if allZero(0..<16) { return .unspecified }
        if allZero(0..<15) && b[15] == 1 { return .loopback }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) reach the IPv4 address.
        if allZero(0..<10) && b[10] == 0xFF && b[11] == 0xFF { return scope(v4: Array(b[12..<16])) }
        if allZero(0..<12) { return scope(v4: Array(b[12..<16])) }
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address a gateway may reach.
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && allZero(4..<12) { return scope(v4: Array(b[12..<16])) }
        if b[0] == 0x20 && b[1] == 0x02 { return scope(v4: Array(b[2..<6])) }
        if b[0] == 0xFF { return .multicast }
        if b[0] == 0xFE && (b[1] & 0xC0) == 0x80 { return .linkLocal }
        if b[0] == 0xFE && (b[1] & 0xC0) == 0xC0 { return .privateUse }  // site-local (deprecated)
        if (b[0] & 0xFE) == 0xFC { return .uniqueLocal }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return .reserved }  // documentation
        if b[0] == 0x01 && allZero(1..<8) { return .reserved }  // discard-only
        return .global
    }
}

/// The SSRF guard: resolves an endpoint's host and says which address to connect to, refusing
/// any host with an address that is not global unless the operator allowed private ones.
///
/// It runs immediately before each attempt, and the attempt connects to the address it checked
/// (AsyncHTTPClient's `dnsOverride`, which keeps the host name for TLS), so DNS that changes
/// between the check and the connection (rebinding) cannot send the request elsewhere.
struct AddressPolicy: Sendable {
    var allowPrivate: Bool

    /// Why a host was not called.
    struct Refusal: Error, Sendable, Equatable {
        enum Code: String, Sendable { case privateAddress = "private_address", dns }
        var code: Code
        var detail: String
    }

    /// The address to connect to for `host`, once all were checked: the first IPv4 one, else the
    /// first (pinning one address gives up Happy Eyeballs; IPv4 is the one a host can reach most
    /// often).
    func check(host: String) async throws(Refusal) -> IPAddress {
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            do {
                addresses = try await NIOThreadPool.singleton.runIfActive { try Self.resolve(host) }
            } catch {
                throw Refusal(code: .dns, detail: "\(error)")
            }
        }
        guard let first = addresses.first(where: { $0.bytes.count == 4 }) ?? addresses.first else {
            throw Refusal(code: .dns, detail: "no address")
        }
        if !allowPrivate, let bad = addresses.first(where: { $0.scope != .global }) {
            // Every address is checked: a host with one public and one private address is refused.
            throw Refusal(code: .privateAddress, detail: "\(bad.scope.rawValue) address \(bad)")
        }
        return first
    }

    /// `getaddrinfo` (blocking: run on the thread pool).
    private static func resolve(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0, let first = result else {
            throw Refusal(code: .dns, detail: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sockaddr = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(ip) }
                    }
                case AF_INET6:
                    sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin6_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(ip) }
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
