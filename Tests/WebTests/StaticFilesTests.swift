import Foundation
import HTTPCore
import Testing
@testable import Web

/// A Public/ directory with a neighbour outside it.
private final class Site: Sendable {
    let base: TemporaryDirectory
    let root: String
    let css: [UInt8]
    let js: [UInt8]
    let jsPrecompressed: [UInt8]
    let png: [UInt8]
    static let mtime = 1_704_164_645  // Tue, 02 Jan 2024 03:04:05 GMT

    init() throws {
        base = try TemporaryDirectory()
        root = base.path + "/Public"
        css = Array(String(repeating: "body { font-family: \"PingFang SC\", sans-serif; color: #333; }\n", count: 300).utf8)
        js = Array(String(repeating: "document.querySelectorAll('form').forEach(f => f.reset());\n", count: 100).utf8)
        // The sibling deliberately differs, so a test can tell which one was sent.
        jsPrecompressed = Gzip.compress(Array("/* precompressed */\n".utf8) + js) ?? []
        png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<4000).map { UInt8($0 % 251) }

        try base.write("Public/css/site.css", css)
        try base.write("Public/js/app.js", js)
        try base.write("Public/js/app.js.gz", jsPrecompressed)
        try base.write("Public/img/logo.png", png)
        try base.write("Public/small.txt", "你好\n")
        try base.write("Public/.env", "SECRET=1")
        try base.write("Public/.git/config", "[core]")
        try base.write("Public/data/中文 名.csv", "a,b\n")
        try base.write("outside.txt", "outside the root")
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root + "/link-out.txt", withDestinationPath: base.path + "/outside.txt")
        try fm.createSymbolicLink(atPath: root + "/dir-out", withDestinationPath: base.path)
        try fm.createSymbolicLink(atPath: root + "/link-in.css", withDestinationPath: root + "/css/site.css")
        try fm.createSymbolicLink(atPath: root + "/link-dot", withDestinationPath: root + "/.env")
        for path in ["css/site.css", "js/app.js", "img/logo.png", "small.txt"] {
            try setModified(root + "/" + path, Site.mtime)
        }
        try setModified(root + "/js/app.js.gz", Site.mtime + 10)
    }

    func setModified(_ path: String, _ epoch: Int) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: TimeInterval(epoch))],
                                              ofItemAtPath: path)
    }
}

@Suite struct StaticFilesTests {
    @Test func servesAFileWithValidatorsAndCaching() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let response = try #require(files.response(for: makeRequest("/css/site.css")))
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/css; charset=utf-8")
        #expect(response.headers["Cache-Control"] == "public, max-age=3600")
        #expect(response.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT")
        #expect(response.headers["Vary"] == "Accept-Encoding")
        #expect(response.headers["Content-Encoding"] == nil)
        let etag = try #require(response.headers["ETag"])
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
        #expect(try bodyBytes(response) == site.css)

        // Served again from memory: same bytes and validator.
        let again = try #require(files.response(for: makeRequest("/css/site.css")))
        #expect(again.headers["ETag"] == etag)
        #expect(try bodyBytes(again) == site.css)
        #expect(files.cachedBytes >= site.css.count)
    }

    @Test func contentTypesByExtension() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        #expect(files.response(for: makeRequest("/img/logo.png"))?.headers["Content-Type"] == "image/png")
        #expect(files.response(for: makeRequest("/small.txt"))?.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(files.response(for: makeRequest("/js/app.js"))?.headers["Content-Type"] == "text/javascript; charset=utf-8")
        #expect(files.response(for: makeRequest("/js/app.js.gz"))?.headers["Content-Type"] == "application/octet-stream")
        let expected: [String: String] = [
            "a.css": "text/css; charset=utf-8", "a.JPG": "image/jpeg", "a.jpeg": "image/jpeg", "a.gif": "image/gif",
            "a.svg": "image/svg+xml", "a.ico": "image/x-icon", "a.webp": "image/webp", "a.woff2": "font/woff2",
            "a.html": "text/html; charset=utf-8", "a.csv": "text/csv; charset=utf-8", "a.json": "application/json",
            "a.pdf": "application/pdf", "README": "application/octet-stream", "x.tar.unknown": "application/octet-stream",
        ]
        for (name, type) in expected {
            #expect(StaticFiles.contentType(forPath: "/dir.d/" + name) == type, "\(name)")
        }
    }

    @Test func percentEncodedPathsAreDecoded() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let response = try #require(files.response(for: makeRequest("/data/%E4%B8%AD%E6%96%87%20%E5%90%8D.csv")))
        #expect(try bodyBytes(response) == Array("a,b\n".utf8))
        #expect(files.response(for: makeRequest("/css/site%2Ecss")) != nil)
        #expect(files.response(for: makeRequest("/css%2Fsite.css")) != nil)
    }

    @Test func traversalIsRefused() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let refused = [
            "/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/%2e%2e/etc/passwd", "/css/../../outside.txt",
            "/css/%2e%2e/%2e%2e/outside.txt", "/css/..%2f..%2foutside.txt", "/css/%00.css", "/css/site.css%00",
            "/css/site.css%00.png", "/css\\site.css", "/css%5csite.css", "/link-out.txt", "/dir-out/outside.txt",
            "/./css/site.css", "/css/./site.css", "//css/site.css", "/css//site.css", "/%FF.css",
            "css/site.css", "*", "",
        ]
        for path in refused {
            #expect(files.response(for: makeRequest(path)) == nil, "\(path)")
        }
        // A symlink that stays inside the root is fine.
        #expect(try files.response(for: makeRequest("/link-in.css")).map { try bodyBytes($0) } == site.css)
    }

    @Test func dotfilesAndDirectoriesAreRefused() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        for path in ["/.env", "/%2eenv", "/.git/config", "/.git/", "/link-dot", "/", "/css", "/css/", "/missing.css",
                     "/css/site.css/"] {
            #expect(files.response(for: makeRequest(path)) == nil, "\(path)")
        }
    }

    @Test func onlyGetAndHead() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        for method in [HTTPMethod.post, .put, .delete, .options, HTTPMethod("PROPFIND")] {
            #expect(files.response(for: makeRequest(method, "/css/site.css")) == nil)
        }
    }

    @Test func headHasTheHeadersOfGet() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let get = try #require(files.response(for: makeRequest(.get, "/img/logo.png")))
        let head = try #require(files.response(for: makeRequest(.head, "/img/logo.png")))
        #expect(head.status == .ok)
        #expect(head.headers == get.headers)
        // The body is there so the server can send its Content-Length; it drops the content.
        #expect(head.bodyBytes?.count == site.png.count)
        let headGzip = try #require(files.response(for: makeRequest(.head, "/css/site.css", headers: [("Accept-Encoding", "gzip")])))
        #expect(headGzip.headers["Content-Encoding"] == "gzip")
    }

    @Test func ifNoneMatchGives304() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let first = try #require(files.response(for: makeRequest("/css/site.css")))
        let etag = try #require(first.headers["ETag"])

        for value in [etag, "\"other\", \(etag)", "W/\(etag)", "*", " \"a\" ,W/\"b\",  \(etag) "] {
            let response = try #require(files.response(for: makeRequest("/css/site.css", headers: [("If-None-Match", value)])))
            #expect(response.status == .notModified, "\(value)")
            #expect(response.headers["ETag"] == etag)
            #expect(response.headers["Cache-Control"] == "public, max-age=3600")
            #expect(response.headers["Vary"] == "Accept-Encoding")
            #expect(response.headers["Content-Type"] == nil)
            #expect(response.bodyBytes == [])
        }
        // Several fields are one list.
        let split = try #require(files.response(for: makeRequest("/css/site.css",
            headers: [("If-None-Match", "\"x\""), ("If-None-Match", etag)])))
        #expect(split.status == .notModified)

        for value in ["\"nope\"", etag.replacingOccurrences(of: "\"", with: ""), "W/\"\"", "\"unterminated"] {
            let response = try #require(files.response(for: makeRequest("/css/site.css", headers: [("If-None-Match", value)])))
            #expect(response.status == .ok, "\(value)")
            #expect(try bodyBytes(response) == site.css)
        }
    }

    @Test func ifModifiedSinceGives304UnlessIfNoneMatchSaysOtherwise() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let lastModified = "Tue, 02 Jan 2024 03:04:05 GMT"
        for value in [lastModified, "Wed, 03 Jan 2024 00:00:00 GMT"] {
            let response = try #require(files.response(for: makeRequest("/img/logo.png", headers: [("If-Modified-Since", value)])))
            #expect(response.status == .notModified, "\(value)")
            #expect(response.headers["ETag"] != nil)
            #expect(response.bodyBytes == [])
        }
        for value in ["Tue, 02 Jan 2024 03:04:04 GMT", "yesterday", ""] {
            let response = try #require(files.response(for: makeRequest("/img/logo.png", headers: [("If-Modified-Since", value)])))
            #expect(response.status == .ok, "\(value)")
        }
        // RFC 9110 §13.2.2: If-None-Match wins, even when If-Modified-Since alone would give 304.
        let both = try #require(files.response(for: makeRequest("/img/logo.png",
            headers: [("If-None-Match", "\"stale\""), ("If-Modified-Since", lastModified)])))
        #expect(both.status == .ok)
        #expect(try bodyBytes(both) == site.png)
    }

    @Test func gzipIsServedToClientsThatAcceptIt() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let plain = try #require(files.response(for: makeRequest("/css/site.css")))
        let response = try #require(files.response(for: makeRequest("/css/site.css",
            headers: [("Accept-Encoding", "gzip, deflate, br")])))
        #expect(response.status == .ok)
        #expect(response.headers["Content-Encoding"] == "gzip")
        #expect(response.headers["Vary"] == "Accept-Encoding")
        #expect(response.headers["Content-Type"] == "text/css; charset=utf-8")
        let compressed = try bodyBytes(response)
        #expect(compressed.count < site.css.count / 4)
        #expect(Gzip.decompress(compressed) == site.css)
        let gzipETag = try #require(response.headers["ETag"])
        #expect(gzipETag != plain.headers["ETag"])

        // The gzip validator revalidates the gzip representation.
        let revalidated = try #require(files.response(for: makeRequest("/css/site.css",
            headers: [("Accept-Encoding", "gzip"), ("If-None-Match", gzipETag)])))
        #expect(revalidated.status == .notModified)
        #expect(revalidated.headers["ETag"] == gzipETag)

        // q=0 refuses gzip; no Accept-Encoding means identity.
        for headers in [[("Accept-Encoding", "gzip;q=0")], [("Accept-Encoding", "br")], []] {
            let identity = try #require(files.response(for: makeRequest("/css/site.css", headers: headers)))
            #expect(identity.headers["Content-Encoding"] == nil)
            #expect(identity.headers["Vary"] == "Accept-Encoding")
            #expect(try bodyBytes(identity) == site.css)
        }
    }

    @Test func smallAndIncompressibleFilesAreNotGzipped() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        for path in ["/small.txt", "/img/logo.png"] {
            let response = try #require(files.response(for: makeRequest(path, headers: [("Accept-Encoding", "gzip")])))
            #expect(response.headers["Content-Encoding"] == nil, "\(path)")
            #expect(response.headers["Vary"] == nil, "\(path)")
        }
    }

    @Test func precompressedSiblingIsUsed() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root)
        let response = try #require(files.response(for: makeRequest("/js/app.js", headers: [("Accept-Encoding", "gzip")])))
        #expect(response.headers["Content-Encoding"] == "gzip")
        #expect(response.headers["Content-Type"] == "text/javascript; charset=utf-8")
        let body = try bodyBytes(response)
        #expect(body == site.jsPrecompressed)
        #expect(Gzip.decompress(body) == Array("/* precompressed */\n".utf8) + site.js)
        let identity = try #require(files.response(for: makeRequest("/js/app.js")))
        #expect(try bodyBytes(identity) == site.js)
    }

    @Test func staleSiblingIsIgnored() throws {
        let site = try Site()
        try site.setModified(site.root + "/js/app.js.gz", Site.mtime - 100)
        let files = StaticFiles(root: site.root)
        let response = try #require(files.response(for: makeRequest("/js/app.js", headers: [("Accept-Encoding", "gzip")])))
        #expect(response.headers["Content-Encoding"] == "gzip")
        #expect(Gzip.decompress(try bodyBytes(response)) == site.js)
    }

    @Test func changesOnDiskAreNoticedAfterRevalidation() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root, options: .init(revalidationInterval: .zero))
        let before = try #require(files.response(for: makeRequest("/small.txt")))
        try site.base.write("Public/small.txt", "changed content\n")
        try site.setModified(site.root + "/small.txt", Site.mtime + 60)
        let after = try #require(files.response(for: makeRequest("/small.txt")))
        #expect(try bodyBytes(after) == Array("changed content\n".utf8))
        #expect(after.headers["ETag"] != before.headers["ETag"])
        #expect(after.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:05:05 GMT")

        try FileManager.default.removeItem(atPath: site.root + "/small.txt")
        #expect(files.response(for: makeRequest("/small.txt")) == nil)
    }

    @Test func withinTheIntervalTheCachedCopyIsServed() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root, options: .init(revalidationInterval: .seconds(3600)))
        _ = try #require(files.response(for: makeRequest("/small.txt")))
        try FileManager.default.removeItem(atPath: site.root + "/small.txt")
        #expect(try files.response(for: makeRequest("/small.txt")).map { try bodyBytes($0) } == Array("你好\n".utf8))
        files.purge()
        #expect(files.response(for: makeRequest("/small.txt")) == nil)
    }

    @Test func largeFilesAreStreamedAndStillGetValidators() throws {
        let site = try Site()
        let options = StaticFiles.Options(maxCachedFileBytes: 4096)
        let files = StaticFiles(root: site.root, options: options)
        let response = try #require(files.response(for: makeRequest("/css/site.css")))
        guard case .stream = response.body else {
            Issue.record("expected a streamed body")
            return
        }
        #expect(try bodyBytes(response) == site.css)
        #expect(files.cachedBytes == 0)
        let etag = try #require(response.headers["ETag"])
        let conditional = try #require(files.response(for: makeRequest("/css/site.css", headers: [("If-None-Match", etag)])))
        #expect(conditional.status == .notModified)
        // Without a sibling, a file too large to cache is sent uncompressed.
        let gzipRequest = try #require(files.response(for: makeRequest("/css/site.css", headers: [("Accept-Encoding", "gzip")])))
        #expect(gzipRequest.headers["Content-Encoding"] == nil)
        #expect(try bodyBytes(gzipRequest) == site.css)
    }

    @Test func memoryBudgetIsRespected() throws {
        let site = try Site()
        let files = StaticFiles(root: site.root, options: .init(maxCacheBytes: 8000))
        for path in ["/css/site.css", "/js/app.js", "/img/logo.png", "/small.txt"] {
            for _ in 0..<2 {
                let response = try #require(files.response(for: makeRequest(path, headers: [("Accept-Encoding", "gzip")])))
                #expect(!(try bodyBytes(response)).isEmpty)
            }
            #expect(files.cachedBytes <= 8000)
        }
        let css = try #require(files.response(for: makeRequest("/css/site.css")))
        #expect(try bodyBytes(css) == site.css)
    }

    @Test func missingRootServesNothing() {
        let files = StaticFiles(root: "/nonexistent-jinlin-public")
        #expect(files.response(for: makeRequest("/css/site.css")) == nil)
    }

    @Test func concurrentRequestsAgree() async throws {
        let site = try Site()
        let files = StaticFiles(root: site.root, options: .init(revalidationInterval: .zero))
        let css = site.css
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<32 {
                group.addTask {
                    let headers = i % 2 == 0 ? [("Accept-Encoding", "gzip")] : []
                    guard let response = files.response(for: makeRequest("/css/site.css", headers: headers)) else { return false }
                    let body = try bodyBytes(response)
                    return (i % 2 == 0 ? Gzip.decompress(body) : body) == css
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test func ifNoneMatchParsing() {
        let tag = "\"abc\""
        #expect(StaticFiles.match(["\"abc\""], etag: tag, gzipETag: nil) == .plain)
        #expect(StaticFiles.match(["W/\"abc\""], etag: tag, gzipETag: nil) == .plain)
        #expect(StaticFiles.match(["\"abc-gz\""], etag: tag, gzipETag: "\"abc-gz\"") == .gzip)
        #expect(StaticFiles.match(["\"abc-gz\""], etag: tag, gzipETag: nil) == .none)
        #expect(StaticFiles.match(["*"], etag: tag, gzipETag: nil) == .any)
        #expect(StaticFiles.match(["\"x,y\", \"abc\""], etag: tag, gzipETag: nil) == .plain)
        #expect(StaticFiles.match(["abc"], etag: tag, gzipETag: nil) == .none)
        #expect(StaticFiles.match(["\"abc"], etag: tag, gzipETag: nil) == .none)
        #expect(StaticFiles.match([""], etag: tag, gzipETag: nil) == .none)
    }
}
