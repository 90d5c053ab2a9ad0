import Foundation

/// Each worker process scratches in `<root>/worker-<pid>-<n>`. A folder whose process is gone
/// (kill -9, OOM, power loss) is stale and removed when the next worker starts.
enum WorkDirectories {
    static func create(root: String) throws -> String {
        let path = "\(root)/worker-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes the folders of workers that no longer run; returns how many.
    @discardableResult
    static func removeStale(root: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var removed = 0
        for entry in entries where entry.hasPrefix("worker-") {
            let parts = entry.split(separator: "-")
            guard parts.count >= 2, let pid = Int32(parts[1]) else { continue }
            if pid == getpid() { continue }
            // kill(pid, 0) fails with ESRCH when no such process exists.
            if kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: "\(root)/\(entry)")
                removed += 1
            }
        }
        return removed
    }
}
