import Foundation

/// docs/openapi.yaml read as far as the contract tests need: its block mappings as a tree of keys,
/// each with the text after its colon. Flow values (`{ ... }`), lists and scalars are leaves, kept
/// as text. The document's structure itself is checked by `openapi-spec-validator` in the suite.
struct OpenAPIDocument {
    final class Node {
        let value: String
        var children: [(key: String, node: Node)] = []
        init(value: String) { self.value = value }

        subscript(key: String) -> Node? { children.first { $0.key == key }?.node }
        /// The node at the end of `keys`, one level each.
        func at(_ keys: String...) -> Node? { keys.reduce(self as Node?) { $0?[$1] } }
    }

    let root = Node(value: "")

    static func load() throws -> OpenAPIDocument {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml")
        return OpenAPIDocument(text: try String(contentsOf: file, encoding: .utf8))
    }

    init(text: String) {
        var stack: [(indent: Int, node: Node)] = [(-1, root)]
        for line in text.split(separator: "\n") {
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent)
            guard !content.hasPrefix("#"), !content.hasPrefix("- "), let colon = Self.keyEnd(content) else { continue }
            var key = String(content[..<colon])
            if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 { key = String(key.dropFirst().dropLast()) }
            let node = Node(value: content[content.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            while let last = stack.last, last.indent >= indent { stack.removeLast() }
            stack.last?.node.children.append((key, node))
            stack.append((indent, node))
        }
    }

    /// Where a mapping key ends: the first `:` followed by a space or the line's end, outside quotes.
    private static func keyEnd(_ content: Substring) -> Substring.Index? {
        var quoted = false
        var index = content.startIndex
        while index < content.endIndex {
            let character = content[index]
            if character == "\"" { quoted.toggle() }
            let next = content.index(after: index)
            if character == ":", !quoted, next == content.endIndex || content[next] == " " { return index }
            if index == content.startIndex, character == "{" || character == "[" { return nil }
            index = next
        }
        return nil
    }

    /// `METHOD /path` of every operation under `paths` whose path starts with `prefix`.
    func operations(under prefix: String) -> Set<String> {
        var found: Set<String> = []
        for (path, item) in root["paths"]?.children ?? [] where path.hasPrefix(prefix) {
            for (method, _) in item.children where ["get", "put", "post", "delete", "patch"].contains(method) {
                found.insert("\(method.uppercased()) \(path)")
            }
        }
        return found
    }

    /// The property names of an operation's JSON request body, following one `$ref` to a schema.
    func requestFields(_ method: String, _ path: String) -> Set<String>? {
        guard let schema = root.at("paths", path, method.lowercased(), "requestBody", "content", "application/json", "schema") else { return nil }
        if let properties = schema["properties"] { return Set(properties.children.map(\.key)) }
        guard let ref = schema.value.range(of: "#/components/schemas/") else { return nil }
        let name = schema.value[ref.upperBound...].prefix { $0 != "\"" && $0 != " " && $0 != "}" }
        return root.at("components", "schemas", String(name), "properties").map { Set($0.children.map(\.key)) }
    }
}
