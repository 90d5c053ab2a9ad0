import Foundation
import PulseMedia

/// How an asset is cut into work, fixed once by the `prepare` job and stored with the asset
/// (`ladder_json`), so that every later job, on any worker, encodes exactly the same units.
struct AssetPlan: Codable, Sendable, Equatable {
    var rungs: [Rung]
    var units: [WorkUnit]
    var segmentSeconds: Double

    func unit(_ kind: ChunkKind, index: Int) -> WorkUnit? {
        units.first { Self.chunkKind(of: $0) == kind && $0.index == index }
    }

    static func chunkKind(of unit: WorkUnit) -> ChunkKind { unit.kind == .audio ? .audio : .video }

    static func chunkPlan(_ unit: WorkUnit, duration: Double) -> ChunkPlan {
        ChunkPlan(kind: chunkKind(of: unit), index: unit.index, startSeconds: unit.range.start, endSeconds: unit.range.end ?? duration)
    }

    func weights(duration: Double) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: units.map { (ProgressAggregator.key($0), WorkPlanner.weight(of: $0, duration: duration)) })
    }
}

/// Object keys of an asset's files.
enum StorageKeys {
    static func processedPrefix(_ id: UUID) -> String { "processed/\(id.uuidString.lowercased())/" }
    static func thumbnail(_ id: UUID) -> String { processedPrefix(id) + "thumbnail.jpg" }
    static func master(_ id: UUID) -> String { processedPrefix(id) + "master.m3u8" }
}

extension JSONEncoder {
    static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func text(_ value: some Encodable) throws -> String { String(decoding: try encode(value), as: UTF8.self) }
}

extension JSONDecoder {
    func decode<T: Decodable>(_ type: T.Type, text: String) throws -> T { try decode(type, from: Data(text.utf8)) }
}
