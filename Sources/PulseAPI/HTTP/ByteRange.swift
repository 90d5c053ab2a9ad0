/// A single `Range: bytes=...` request, resolved against an object's size.
///
/// Only one range is served (players ask for one); a multi-range request gets the whole object,
/// which HTTP allows. A range that cannot be met is `.unsatisfiable` (416).
enum ByteRange: Equatable {
    /// No usable Range header: send everything (200).
    case whole
    /// Send these bytes (206), inclusive bounds.
    case partial(ClosedRange<Int64>)
    /// 416 Range Not Satisfiable.
    case unsatisfiable

    init(header: String?, size: Int64) {
        guard let header else { self = .whole; return }
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes=") else { self = .whole; return }
        let spec = value.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(",") else { self = .whole; return }
        let bounds = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard bounds.count == 2 else { self = .whole; return }
        switch (Int64(bounds[0]), Int64(bounds[1])) {
        case (let start?, let end?) where start <= end && start >= 0:
            self = start < size ? .partial(start...min(end, size - 1)) : .unsatisfiable
        case (let start?, nil) where bounds[1].isEmpty && start >= 0:
            self = start < size ? .partial(start...(size - 1)) : .unsatisfiable
        case (nil, let suffix?) where bounds[0].isEmpty && suffix > 0:
            self = size > 0 ? .partial(max(0, size - suffix)...(size - 1)) : .unsatisfiable
        default:
            // Malformed: ignored, as RFC 9110 says.
            self = .whole
        }
    }
}

import Foundation
