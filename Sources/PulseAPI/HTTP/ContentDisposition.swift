import Foundation

/// `Content-Disposition` for a file the API offers to save (RFC 6266): `attachment` with the
/// upload's own name, so a browser saves "holiday.mp4" rather than "download.mp4".
enum ContentDisposition {
    /// `attachment; filename="..."; filename*=UTF-8''...` for `name` with its extension replaced
    /// by `ext`. `filename` is a quoted ASCII fallback (anything else becomes `_`); `filename*`
    /// carries the name exactly, percent-encoded (RFC 8187), for the clients that read it.
    static func attachment(named name: String?, extension ext: String) -> String {
        let stem = Self.stem(of: name ?? "") ?? "video"
        let full = "\(stem).\(ext)"
        let fallback = String(String.UnicodeScalarView(full.unicodeScalars.map { scalar in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F && scalar != "\"" && scalar != "\\" ? scalar : "_"
        }))
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(full.addingPercentEncoding(withAllowedCharacters: attrChar) ?? fallback)"
    }

    /// The name without its last extension and without any folder part; nil when nothing is left.
    private static func stem(of name: String) -> String? {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let stem = base.lastIndex(of: ".").map { String(base[..<$0]) } ?? base
        let trimmed = stem.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters))
        return trimmed.isEmpty ? nil : trimmed
    }

    /// RFC 8187's `attr-char`: what may stand unescaped in an extended parameter value.
    private static let attrChar = CharacterSet(charactersIn:
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~")
}
