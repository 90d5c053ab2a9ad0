import Foundation
import NIOHTTP1
import Testing

@testable import PulseStorage

/// The dates and headers S3 answers with, read into `ObjectInfo`.
@Suite("S3 answers")
struct S3DateTests {
    @Test("a listing's LastModified with and without milliseconds; anything else is no date")
    func listingDates() {
        #expect(S3Store.parseISODate("2009-10-12T17:50:30.000Z") == Date(timeIntervalSince1970: 1_255_369_830))
        #expect(S3Store.parseISODate("2009-10-12T17:50:30.250Z") == Date(timeIntervalSince1970: 1_255_369_830.25))
        #expect(S3Store.parseISODate("2009-10-12T17:50:30Z") == Date(timeIntervalSince1970: 1_255_369_830))
        #expect(S3Store.parseISODate("Mon, 12 Oct 2009 17:50:30 GMT") == nil)
        #expect(S3Store.parseISODate("") == nil)
    }

    @Test("a GET's answer describes the whole object: the size after Content-Range's slash, the encoding kept")
    func getAnswerInfo() {
        let headers = HTTPHeaders([
            ("Content-Length", "7"), ("Content-Range", "bytes 0-6/1234"), ("ETag", "\"abc\""),
            ("Content-Type", "application/vnd.apple.mpegurl"), ("Content-Encoding", "gzip"),
        ])
        let info = S3Store.info(key: "k", headers: headers, size: 1234)
        #expect(info == ObjectInfo(key: "k", size: 1234, etag: "abc", contentType: "application/vnd.apple.mpegurl", contentEncoding: "gzip"))
        #expect(S3Store.info(key: "k", headers: headers).size == 7)
    }
}
