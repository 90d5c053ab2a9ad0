import Foundation
import PulseStorage
import Testing

/// A local storage URL is accepted only as the signer wrote it: the same expiry and signature
/// spelt another way (a sign, a leading zero, upper-case hex) are refused, as asset tokens are.
@Suite("Signed storage URLs: one spelling")
struct SignedURLSpellingTests {
    let signer = try! LocalURLSigner(secret: Array("0123456789abcdef0123456789abcdef".utf8), baseURL: "http://h/storage")
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func mismatch(expires: String, signature: String, query: [String: String] = [:]) -> Bool {
        do {
            try signer.verify(method: "PUT", key: "uploads/a/clip.mp4", expires: expires, signature: signature, query: query, now: now)
            return false
        } catch let error as StorageError {
            return error.code == .signatureMismatch
        } catch {
            return false
        }
    }

    @Test("+N, 0N, upper-case and mixed-case signatures are refused; the issued form is accepted")
    func respellings() throws {
        let expires: Int64 = 1_700_000_300
        let url = signer.url(method: "PUT", key: "uploads/a/clip.mp4", expires: expires, query: ["part": "2", "upload": "u1"])
        let query = Dictionary(uniqueKeysWithValues: url.split(separator: "?")[1].split(separator: "&").map {
            let pair = $0.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        let signature = try #require(query["signature"])
        let signed = ["part": "2", "upload": "u1"]
        try signer.verify(method: "PUT", key: "uploads/a/clip.mp4", expires: "\(expires)", signature: signature, query: signed, now: now)

        #expect(mismatch(expires: "+\(expires)", signature: signature, query: signed))
        #expect(mismatch(expires: "0\(expires)", signature: signature, query: signed))
        #expect(mismatch(expires: "00\(expires)", signature: signature, query: signed))
        #expect(mismatch(expires: "\(expires)", signature: signature.uppercased(), query: signed))
        if let letter = signature.firstIndex(where: \.isLetter) {
            var mixed = signature
            mixed.replaceSubrange(letter...letter, with: signature[letter].uppercased())
            #expect(mismatch(expires: "\(expires)", signature: mixed, query: signed))
        }
        #expect(mismatch(expires: "\(expires)", signature: signature + "00", query: signed))
        #expect(mismatch(expires: "\(expires)", signature: String(signature.dropLast(2)), query: signed))
        // A part number spelt another way is another signed value.
        #expect(mismatch(expires: "\(expires)", signature: signature, query: ["part": "02", "upload": "u1"]))
    }
}
