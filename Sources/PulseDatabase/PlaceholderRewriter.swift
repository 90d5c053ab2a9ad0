/// Rewrites PostgreSQL-style `$1` placeholders to SQLite's `?1`.
///
/// SQLite reads `$1` as a *named* parameter and numbers named parameters by first appearance, so
/// `... $2 ... $1` would silently swap values; `?NNN` is positional, like PostgreSQL's `$NNN`.
/// Text inside quotes (string literals, quoted identifiers) is left alone.
enum PlaceholderRewriter {
    static func sqlite(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count)
        var quote: Character? = nil
        var previous: Character? = nil
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character.isNumber, previous == "$" {
                output.removeLast()
                output.append("?")
                output.append(character)
            } else {
                output.append(character)
            }
            previous = character
        }
        return output
    }
}
