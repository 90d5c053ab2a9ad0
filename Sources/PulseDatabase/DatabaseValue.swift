/// A value bound to, or read from, a SQL statement: the few types both engines store the same way.
///
/// Times are `double` epoch seconds and JSON is `text` on both engines, so this small set is enough.
public enum DatabaseValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)

    /// The value as an integer; integral doubles and booleans convert (SQLite has no boolean type).
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }

    /// The value as a double; integers convert (SQLite returns `5.0` stored in a REAL column as-is,
    /// but an expression such as `MAX(...)` over integers gives an integer).
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// The value as text.
    public var textValue: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The value as a boolean; integers 0 and 1 convert (how SQLite stores booleans).
    public var boolValue: Bool? {
        switch self {
        case .bool(let value): return value
        case .int(let value): return value != 0
        default: return nil
        }
    }

    /// True for SQL `NULL`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .text(let value): return "'\(value)'"
        case .bool(let value): return String(value)
        }
    }
}

extension DatabaseValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension DatabaseValue {
    /// A text bind, or `NULL` when the value is nil.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }

    /// An integer bind from a Swift `Int`, or `NULL` when the value is nil.
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }

    /// An integer bind, or `NULL` when the value is nil.
    public init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }

    /// A double bind, or `NULL` when the value is nil.
    public init(_ value: Double?) { self = value.map { .double($0) } ?? .null }
}
