/// One result row: column values by name, in the order the statement returned them.
public struct DatabaseRow: Sendable, Hashable {
    /// Column names in statement order.
    public let columns: [String]
    /// Values in statement order.
    public let values: [DatabaseValue]

    /// Builds a row; `columns` and `values` have the same length.
    public init(columns: [String], values: [DatabaseValue]) {
        precondition(columns.count == values.count, "a row needs one value per column")
        self.columns = columns
        self.values = values
    }

    /// The value of a column, or `.null` when the row has no such column.
    public subscript(_ column: String) -> DatabaseValue {
        guard let index = self.columns.firstIndex(of: column) else { return .null }
        return self.values[index]
    }

    /// A required integer column.
    public func int(_ column: String) throws -> Int64 {
        try self.require(column, self[column].intValue, "integer")
    }

    /// A required double column.
    public func double(_ column: String) throws -> Double {
        try self.require(column, self[column].doubleValue, "double")
    }

    /// A required text column.
    public func text(_ column: String) throws -> String {
        try self.require(column, self[column].textValue, "text")
    }

    /// A required boolean column.
    public func bool(_ column: String) throws -> Bool {
        try self.require(column, self[column].boolValue, "boolean")
    }

    /// An optional integer column: nil for `NULL`.
    public func optionalInt(_ column: String) throws -> Int64? {
        self[column].isNull ? nil : try self.int(column)
    }

    /// An optional double column: nil for `NULL`.
    public func optionalDouble(_ column: String) throws -> Double? {
        self[column].isNull ? nil : try self.double(column)
    }

    /// An optional text column: nil for `NULL`.
    public func optionalText(_ column: String) throws -> String? {
        self[column].isNull ? nil : try self.text(column)
    }

    private func require<T>(_ column: String, _ value: T?, _ type: String) throws -> T {
        guard let value else {
            throw DatabaseError(
                .decoding,
                message: "column \(column) is \(self[column]), expected \(type)"
            )
        }
        return value
    }
}
