/// S3's flavour of URI encoding (RFC 3986 with the SigV4 rules): every byte of the UTF-8 form is
/// percent-encoded (`%XX`, upper-case hex) except the unreserved `A-Z a-z 0-9 - . _ ~`.
///
/// S3 differs from other AWS services in two ways that matter here: the path is encoded once (not
/// twice) and is never normalised, so `a//b` and `a/./b` are distinct keys that must be kept as they are.
public enum S3URIEncoding {
    /// Encodes an object key or path for the URL and the canonical request, keeping `/` as a separator.
    public static func encodePath(_ path: String) -> String {
        encode(path, keepingSlash: true)
    }

    /// Encodes a query parameter name or value: everything but the unreserved characters, `/` included.
    public static func encodeQueryComponent(_ value: String) -> String {
        encode(value, keepingSlash: false)
    }

    static func encode(_ value: String, keepingSlash: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigitsUpper[Int(byte >> 4)])
                out.append(hexDigitsUpper[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigitsUpper = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
