import Testing
@testable import HTTPCore

struct ParserTests {
    private func parse(_ text: String, bodyLimit: Int = 1 << 20) -> ParseOutcome {
        var parser = HTTPRequestParser(bodyLimit: bodyLimit)
        parser.feed(Array(text.utf8))
        var outcome = ParseOutcome()
        var body: [UInt8] = []
        while true {
            do {
                guard let event = try parser.next() else { break }
                switch event {
                case .head(let head): outcome.events.append("\(head.method) \(head.path) \(head.query)")
                case .body(let b): body += b
                case .end(let trailers):
                    outcome.events.append(String(decoding: body, as: UTF8.self) + trailers.fields.map { "|\($0.name)=\($0.value)" }.joined())
                    outcome.requests += 1
                    body = []
                }
            } catch {
                outcome.error = error
                break
            }
        }
        return outcome
    }

    private func head(_ text: String) throws -> HTTPRequestHead {
        var parser = HTTPRequestParser()
        parser.feed(Array(text.utf8))
        guard case .head(let head)? = try parser.next() else {
            throw HTTPParseError(.badRequest, "no head")
        }
        return head
    }

    /// Methods are tokens (RFC 9110 §9.1): any tchar method parses; an unknown one sent to "*"
    /// (an SSDP M-SEARCH probe) is not implemented (501), a known one there is malformed (400).
    @Test func methodsAreTokens() throws {
        #expect(try head("M-SEARCH / HTTP/1.1\r\nHost: x\r\n\r\n").method.rawValue == "M-SEARCH")
        #expect(try head("X_Y.Z~1!#$%&'*+^`| / HTTP/1.1\r\nHost: x\r\n\r\n").method.rawValue == "X_Y.Z~1!#$%&'*+^`|")
        #expect(parse("M-SEARCH * HTTP/1.1\r\nHost: x\r\nMAN: \"ssdp:discover\"\r\n\r\n").error?.status == .notImplemented)
        #expect(parse("GET * HTTP/1.1\r\nHost: x\r\n\r\n").error?.status == .badRequest)
        #expect(try head("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").path == "*")
        #expect(parse("M(SEARCH / HTTP/1.1\r\nHost: x\r\n\r\n").error?.status == .badRequest, "( is no tchar")
    }

    @Test func simpleGetWithQuery() throws {
        let h = try head("GET /residents?q=%E7%8E%8B&page=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.method == .get)
        #expect(h.path == "/residents")
        #expect(h.query == "q=%E7%8E%8B&page=2")
        #expect(h.keepAlive)
        #expect(h.framing == .none)
    }

    @Test func absoluteFormTakesPathAndQuery() throws {
        let h = try head("GET http://example.org/a/b?x=1 HTTP/1.1\r\nHost: other\r\n\r\n")
        #expect(h.path == "/a/b")
        #expect(h.query == "x=1")
        let bare = try head("GET https://example.org HTTP/1.1\r\nHost: other\r\n\r\n")
        #expect(bare.path == "/")
    }

    @Test func duplicateFieldsAreKeptInOrder() throws {
        let h = try head("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\n\r\n")
        #expect(h.headers.values("X-A") == ["1", "2"])
        #expect(h.headers["cookie"] == "a=1")
    }

    @Test func identicalDuplicateContentLengthIsAccepted() {
        let o = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
        #expect(o.error == nil)
        #expect(o.events.last == "abc")
    }

    @Test func keepAliveRules() throws {
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").keepAlive)
        #expect(try head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive)
        #expect(try !head("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").keepAlive)
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let o = parse("POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=1;b=\"q\\\"x\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 9\r\n\r\n")
        #expect(o.error == nil)
        #expect(o.events == ["POST /u ", "hello world|X-Sum=9"])
    }

    @Test func chunkedBodyOverLimitIs413() {
        let o = parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", bodyLimit: 10)
        #expect(o.error?.status == .contentTooLarge)
    }

    @Test func pipelinedRequestsComeOutInOrder() {
        let o = parse("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(o.events == ["GET /1 ", "", "POST /2 ", "ok", "GET /3 ", ""])
    }

    @Test func requestLineLimitGives414AndHeaderLimitsGive431() {
        var limits = HTTPParserLimits()
        limits.maxRequestLineBytes = 64
        limits.maxHeaderCount = 3
        limits.maxHeaderBytes = 100
        func run(_ text: String) -> HTTPParseError? {
            var p = HTTPRequestParser(limits: limits)
            p.feed(Array(text.utf8))
            do { while try p.next() != nil {} } catch { return error }
            return nil
        }
        #expect(run("GET /" + String(repeating: "a", count: 80))?.status.code == 414)
        #expect(run("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")?.status.code == 431)
        #expect(run("GET / HTTP/1.1\r\nHost: x\r\nA: " + String(repeating: "v", count: 120))?.status.code == 431)
        #expect(run("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n") == nil)
    }

    @Test func errorIsStickyAndNothingAfterItIsParsed() {
        var p = HTTPRequestParser()
        p.feed(Array("GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try p.next() }
        #expect(throws: HTTPParseError.self) { try p.next() }
    }

    @Test func binaryJunkIsRefusedBeforeALineEnds() {
        var p = HTTPRequestParser()
        p.feed([0x16, 0x03, 0x01, 0x00])
        #expect(throws: HTTPParseError.self) { try p.next() }
    }

    @Test func idleAndReadingHeadStates() throws {
        var p = HTTPRequestParser()
        #expect(p.isIdle)
        p.feed(Array("GET / HT".utf8))
        #expect(try p.next() == nil)
        #expect(p.isReadingHead)
        p.feed(Array("TP/1.1\r\nHost: x\r\n\r\n".utf8))
        guard case .head? = try p.next() else { Issue.record("no head"); return }
        guard case .end? = try p.next() else { Issue.record("no end"); return }
        #expect(p.isIdle)
    }
}

struct GzipTests {
    @Test func roundTrip() throws {
        let text = Array(String(repeating: "近邻党建引领基层治理 ", count: 500).utf8)
        let compressed = try #require(Gzip.compress(text))
        #expect(compressed.count < text.count / 5)
        #expect(compressed.prefix(2) == [0x1f, 0x8b])
        #expect(Gzip.decompress(compressed) == text)
    }

    @Test func acceptEncodingParsing() {
        #expect(Gzip.isAccepted(by: HTTPHeaders([("Accept-Encoding", "gzip, deflate, br")])))
        #expect(Gzip.isAccepted(by: HTTPHeaders([("Accept-Encoding", "br;q=1.0, GZIP;q=0.5")])))
        #expect(!Gzip.isAccepted(by: HTTPHeaders([("Accept-Encoding", "gzip;q=0")])))
        #expect(!Gzip.isAccepted(by: HTTPHeaders([("Accept-Encoding", "identity")])))
        #expect(!Gzip.isAccepted(by: HTTPHeaders()))
    }

    @Test func dateFormatRoundTrips() {
        #expect(HTTPDate.format(epochSeconds: 784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777)
        #expect(HTTPDate.parse("garbage") == nil)
    }
}
