/// Just enough XML for S3's replies (errors, listings, upload ids, batch-delete results) and for
/// the two request bodies we send. S3's documents are flat and predictable, so a tag scanner is
/// enough and never crashes on odd input: what it cannot find is simply absent.
enum S3XML {
    /// The contents of every `<tag>...</tag>` (or `<tag attr="...">...</tag>`), in order.
    static func blocks(_ tag: String, in xml: Substring) -> [Substring] {
        var found: [Substring] = []
        var rest = xml[...]
        let close = "</\(tag)>"
        while let open = rest.range(of: "<\(tag)") {
            guard let afterName = rest[open.upperBound...].first, afterName == ">" || afterName == " " else {
                rest = rest[open.upperBound...]
                continue
            }
            guard let endOfOpen = rest[open.upperBound...].firstIndex(of: ">") else { break }
            if rest[..<endOfOpen].hasSuffix("/") {  // <tag/>: present but empty
                found.append(rest[endOfOpen..<endOfOpen])
                rest = rest[rest.index(after: endOfOpen)...]
                continue
            }
            let contentStart = rest.index(after: endOfOpen)
            guard let end = rest[contentStart...].range(of: close) else { break }
            found.append(rest[contentStart..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<tag>` in `xml`.
    static func value(_ tag: String, in xml: Substring) -> String? {
        blocks(tag, in: xml).first.map { unescape($0) }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number: UInt32? = entity.hasPrefix("#x")
                    ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst(), radix: 10) : nil
                if let number, let scalar = Unicode.Scalar(number) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += rest[amp...semicolon]
                }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        out += rest
        return out
    }
}
