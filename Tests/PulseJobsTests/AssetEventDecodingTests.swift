import Foundation
@testable import PulseJobs
import PulseSupport
import Testing

/// An event read from NOTIFY without `Codable` is the event `JSONDecoder` reads; whatever the flat
/// reading does not take still gets `JSONDecoder`'s answer or its error.
@Suite("Asset events from JSON")
struct AssetEventDecodingTests {
    static let id = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!

    /// Every field and every type, text with escapes, quotes, control characters and characters
    /// outside the BMP.
    static let events: [AssetEvent] = [
        AssetEvent(assetID: id, type: .progress, percent: 42.5, etaSeconds: 3.25, speed: 1.75, at: 1_765_000_000.123456),
        AssetEvent(assetID: id, type: .status, status: .processing, at: 1),
        AssetEvent(assetID: id, type: .thumbnailReady, thumbnailKey: "processed/x/thumbnail.jpg", placeholder: "LEHV6nWB2yk8pyo0adR*.7kCMdnj", at: 2.5),
        AssetEvent(assetID: id, type: .playable, at: 0),
        AssetEvent(assetID: id, type: .ready, percent: 100, status: .ready, at: 1e-7),
        .failed(id, code: .nonVideo, message: "line\nbreak \"quoted\" \\ back/slash\ttab \u{1} é 日本 🎬 \u{7F}", at: -3),
        .deleted(id, at: 9_999_999_999),
    ]

    @Test func theFlatReadingGivesWhatJSONDecoderGives() throws {
        for event in Self.events {
            let text = try event.jsonText()
            let flat = try #require(FlatJSONObject(text), "\(text)")
            #expect(AssetEvent(flat) == event, "\(text)")
            #expect(try JSONDecoder().decode(AssetEvent.self, from: Data(text.utf8)) == event)
            #expect(try AssetEvent(jsonText: text) == event)
        }
    }

    /// What PostgreSQL's `json_build_object` writes (spaces after colons and commas, a number
    /// from `extract(epoch ...)`), and escapes JSONEncoder never writes.
    @Test func otherWritersSpellings() throws {
        let fromPostgres = #"{"asset_id" : "6f9619ff-8b86-d011-b42d-00c04fc964ff", "type" : "progress", "percent" : 10, "at" : 1765000000.123456}"#
        #expect(try AssetEvent(jsonText: fromPostgres) == AssetEvent(assetID: Self.id, type: .progress, percent: 10, at: 1_765_000_000.123456))
        let escaped = #" { "asset_id":"6F9619FF-8B86-D011-B42D-00C04FC964FF","type":"failed","at":2E+1,"error_message":"\u00e9\ud83c\udfac\/\b\f\r","percent":null } "#
        let flat = try #require(FlatJSONObject(escaped))
        #expect(flat["error_message"] == .string("é🎬/\u{8}\u{C}\r"))
        #expect(flat["at"] == .number(20) && flat["percent"] == .null)
        #expect(try AssetEvent(jsonText: escaped) == JSONDecoder().decode(AssetEvent.self, from: Data(escaped.utf8)))
    }

    @Test func whatTheFlatReadingRefuses() {
        for text in [
            #"{"a":{"b":1}}"#, #"{"a":[1]}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":-}"#, #"{"a":.5}"#, #"{"a":1e}"#,
            #"{"a":"\ud83c"}"#, #"{"a":"\udfac"}"#, #"{"a":"\x"}"#, "{\"a\":\"tab\there\"}", #"{"a":tru}"#,
            #"{"a":1,}"#, #"{"a":1} x"#, #"{"a" 1}"#, #"["a"]"#, "", #"{"a":"open}"#, #"{"a":1e999}"#, #"{"a":1e-400}"#,
        ] {
            #expect(FlatJSONObject(text) == nil, "\(text)")
        }
        #expect(FlatJSONObject(" {} ")?.members.isEmpty == true)
        #expect(FlatJSONObject(#"{"a":1,"a":true}"#)?["a"] == .bool(true))
    }

    /// Where the flat reading steps aside, `JSONDecoder` decides: its errors stay the errors.
    @Test func anythingElseIsJSONDecodersToDecide() throws {
        let base = #""asset_id":"6F9619FF-8B86-D011-B42D-00C04FC964FF","type":"progress""#
        for text in [
            "{\(base)}",  // no "at"
            #"{\#(base),"at":"1"}"#,  // "at" as text
            #"{\#(base),"at":1,"percent":"50"}"#,
            #"{\#(base),"at":1,"status":"melting"}"#,
            #"{"asset_id":"not-a-uuid","type":"progress","at":1}"#,
            #"{"asset_id":"6F9619FF-8B86-D011-B42D-00C04FC964FF","type":"exploded","at":1}"#,
        ] {
            #expect(throws: DecodingError.self, "\(text)") { try AssetEvent(jsonText: text) }
        }
        // Nested, so not flat: JSONDecoder reads it and ignores the member it does not know.
        let nested = #"{\#(base),"at":1,"extra":{"x":[1,2]}}"#
        #expect(try AssetEvent(jsonText: nested) == AssetEvent(assetID: Self.id, type: .progress, at: 1))
    }

    /// Texts a byte or two away from real events (a seeded generator, so every run tries the same
    /// ones): wherever the flat reading gives an event, JSONDecoder gives the same one.
    @Test func nearMissesNeverDisagree() throws {
        var random = SeededGenerator(seed: 0x5EED)
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \u"abcdefnrtl"#.utf8)
        let texts = try Self.events.map { try Array($0.jsonText().utf8) }
        var flatAnswers = 0
        for _ in 0..<5_000 {
            var bytes = texts.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                default: bytes.remove(at: at)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let fast = FlatJSONObject(text).flatMap(AssetEvent.init) else { continue }
            flatAnswers += 1
            #expect(fast == (try? JSONDecoder().decode(AssetEvent.self, from: Data(text.utf8))), "\(text)")
        }
        // The edits leave many texts valid (a digit changed, a space added): the comparison ran.
        #expect(flatAnswers > 500)
    }
}

/// SplitMix64: the same numbers on every run and machine.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
