// Why not apple/swift-configuration (1.4.0): it would cost nothing to build, since AsyncHTTPClient
// already depends on it and its `Configuration` module is already compiled into every build of this
// package; it is left out because it does not fit what this reader must do. Its getters with a
// default (`int(forKey:default:)`) return the default when a value does not convert, reporting
// the failure only to an access reporter: `PULSE_WORKER_CONCURRENCY=abc` silently becoming 1 is
// the very bug this reader removes. Its `required...` getters throw at the first bad value, and
// their errors name the encoded key, not the flag or variable that gave the value, whereas here
// every problem is collected and named by `--flag` or `VARIABLE`. Our names are a public contract
// that does not derive from config keys (`--preset` is `PULSE_X264_PRESET`, `--data` is
// `PULSE_DATA_DIR`, `AWS_ENDPOINT_URL_S3` falls back to `AWS_ENDPOINT_URL`), so
// `CommandLineArgumentsProvider` cannot read our flags and ArgumentParser's options would be fed in
// through an `InMemoryProvider` by hand, and an empty variable must count as unset. What would
// remain of it, looking up a flag and then a variable, is the three lines of `SettingsReader.given`.
// Worth revisiting when a configuration file or a secrets folder (`DirectoryFilesProvider`) is
// wanted: `given` is the one place that would then ask a `ConfigReader`.
import Foundation

/// Looks settings up (a flag, then its environment variable) and collects what is wrong with them,
/// so that one start-up names every bad value at once. Each component's settings struct reads its
/// own flags and variables through one reader (`init(reading:)`) and reports its bad values here;
/// `finish()` then throws them all in one `ConfigurationError`. A flag is keyed by its name
/// (`--port`; a switch such as `--allow-http` as `"1"`); an empty or blank value counts as not
/// given. Problems name the flag or variable that gave the value; secrets are named, never shown.
public struct SettingsReader: Sendable {
    let flags: [String: String]
    let environment: [String: String]
    /// Every problem recorded so far, each `NAME message`.
    public private(set) var problems: [String] = []

    /// A reader of these flags (given on the command line) and this environment.
    public init(flags: [String: String] = [:], environment: [String: String]) {
        self.flags = flags
        self.environment = environment
    }

    /// The value given for a setting and the name that gave it: the flag if it was given, else
    /// the variable. Blank counts as not given.
    public func given(flag: String?, variable: String?) -> (text: String, name: String)? {
        if let flag, let text = flags[flag]?.trimmingCharacters(in: .whitespaces), !text.isEmpty { return (text, flag) }
        if let variable, let text = environment[variable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty { return (text, variable) }
        return nil
    }

    /// The name to quote for a setting: the one that gave its value, else every name it has.
    public func name(flag: String?, variable: String?) -> String {
        given(flag: flag, variable: variable)?.name ?? [flag, variable].compactMap { $0 }.joined(separator: " / ")
    }

    /// The text given for a setting, trimmed; nil when not given.
    public func text(flag: String? = nil, variable: String?) -> String? {
        given(flag: flag, variable: variable)?.text
    }

    /// Records that the setting `name` is wrong: `message` says how (and never quotes a secret).
    public mutating func problem(_ name: String, _ message: String) {
        problems.append("\(name) \(message)")
    }

    /// A number that satisfies `isValid`; nil when not given, or (recorded as a problem) when
    /// it is not a number of that kind or out of range. `requirement` completes "must be ...".
    public mutating func number<T: LosslessStringConvertible>(
        _ type: T.Type, flag: String?, variable: String?, _ requirement: String, _ isValid: (T) -> Bool
    ) -> T? {
        guard let (text, name) = given(flag: flag, variable: variable) else { return nil }
        guard let value = T(text), (value as? Double)?.isFinite ?? true, isValid(value) else {
            problem(name, "must be \(requirement) (got \"\(text)\")")
            return nil
        }
        return value
    }

    /// A switch: `1`, `true`, `yes` or `on` for on; `0`, `false`, `no` or `off` for off.
    public mutating func switchValue(flag: String?, variable: String?) -> Bool? {
        guard let (text, name) = given(flag: flag, variable: variable) else { return nil }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problem(name, "must be 1 or 0 (got \"\(text)\")")
            return nil
        }
    }

    /// An `http://` or `https://` URL with a host; nil when not given, or (recorded as a problem)
    /// when it is anything else.
    public mutating func httpURL(flag: String? = nil, variable: String?) -> String? {
        guard let (text, name) = given(flag: flag, variable: variable) else { return nil }
        let lowered = text.lowercased()
        guard (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")), URLComponents(string: text)?.host?.isEmpty == false else {
            problem(name, "must start with http:// or https:// (got \"\(text)\")")
            return nil
        }
        return text
    }

    /// Throws every problem recorded, in one error; returns when there is none.
    public func finish() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems) }
    }
}

/// Settings that cannot work, each named with its value.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// One line per bad value: the flag or variable that gave it, then what is wrong.
    public var problems: [String]
    /// An error listing `problems`.
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String { "invalid configuration: " + problems.joined(separator: "; ") }
}
