#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import HTTPCore
import HTTPServer
import HTTPTestSupport
import Testing
import Web

@Suite(.serialized)
struct ServerTests {
    static func echoRoutes(_ r: inout Router) {
        r.get("/hello") { _ in HTTPResponse(text: "你好") }
        r.get("/items/:id") { req in HTTPResponse(text: "item \(req.parameter("id") ?? "")") }
        r.post("/echo", options: RouteOptions(bodyLimit: 4 << 20)) { req in
            switch req.http.body {
            case .empty: return HTTPResponse(text: "empty")
            case .bytes(let b): return HTTPResponse(contentType: "application/octet-stream", body: b)
            case .file(let path, let length):
                let data = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
                return HTTPResponse(text: "file \(length) \(data.count) \(path.hasPrefix("/tmp/"))")
            }
        }
        r.get("/slow", options: RouteOptions(offload: true)) { req in
            usleep(300_000)
            return HTTPResponse(text: "slow \(req.http.head.query)")
        }
        r.get("/big") { _ in HTTPResponse(text: String(repeating: "近邻党建 ", count: 2000)) }
        r.get("/boom") { _ in throw CocoaError(.fileNoSuchFile) }
        r.get("/stream") { _ in
            HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "text/csv")]), body: .stream { writer in
                for i in 0..<1000 { try writer.write(Array("row \(i)\n".utf8)) }
            })
        }
        r.get("/huge-stream") { _ in
            HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: .stream { writer in
                let block = [UInt8](repeating: 65, count: 64 * 1024)
                for _ in 0..<512 { try writer.write(block) }
            })
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        for i in 1...3 {
            c.send("GET /items/\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
            let r = c.responses(1)
            #expect(r.first?.status == 200)
            #expect(r.first?.text == "item \(i)")
            #expect(r.first?.header("date")?.hasSuffix("GMT") == true)
        }
    }

    @Test func theAccessLogFileGetsALinePerRequest() throws {
        let path = NSTemporaryDirectory() + "jinlin-access-\(UUID().uuidString).log"
        defer { unlink(path) }
        let file = try LogFile(path: path)
        let s = try TestServer(configure: { $0.accessLog = true }, accessLogFile: file, routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /nowhere?q=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(c.responses(2).map(\.status) == [200, 404])
        s.stop()
        file.flush()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // "seconds.millis info access: peer method path status bytes micros"
        let pattern = /^\d+\.\d+ info access: 127\.0\.0\.1 (GET \/hello 200 6|GET \/nowhere 404 \d+) \d+us$/
        for line in lines { #expect(line.wholeMatch(of: pattern) != nil, "\(line)") }
        #expect(lines.first?.contains("GET /hello 200 6 ") == true)
    }

    @Test func http10ClosesByDefaultAndKeepsAliveWhenAsked() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /hello HTTP/1.0\r\n\r\n")
        let r = c.read()
        #expect(r.closed)
        #expect(TestResponse.parseAll(r.bytes).first?.text == "你好")

        let k = try s.client()
        k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(k.responses(1).first?.header("connection") == "keep-alive")
        k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(k.responses(1).first?.status == 200)
    }

    @Test func pipelinedResponsesKeepRequestOrderEvenWhenTheFirstIsSlow() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /slow?1 HTTP/1.1\r\nHost: t\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: t\r\n\r\nGET /slow?3 HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = c.responses(3)
        #expect(r.map(\.text) == ["slow 1", "item 2", "slow 3"])
    }

    @Test func expectContinueSendsInterimResponseBeforeTheBody() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = c.read(timeout: 2) { TestResponse.parseAll($0).count >= 1 }
        #expect(TestResponse.parseAll(interim.bytes).first?.status == 100)
        c.send("hello")
        let final = c.responses(1)
        #expect(final.first?.status == 200)
        #expect(final.first?.text == "hello")
    }

    @Test func expectContinueWithTooLargeBodyIsRefusedWithoutReadingIt() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\nExpect: 100-continue\r\n\r\n")
        let r = c.read(timeout: 3)
        let responses = TestResponse.parseAll(r.bytes)
        #expect(responses.map(\.status) == [413])
        #expect(r.closed)
    }

    @Test func bodyLimitIsPerRoute() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        // /items/:id has the default 64 KiB limit.
        c.send("POST /items/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        #expect(c.responses(1).first?.status == 413)
        let d = try s.client()
        d.send("POST /items/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        let r = d.responses(1).first
        #expect(r?.status == 405)
        #expect(r?.header("allow") == "GET, HEAD")
    }

    @Test func largeBodiesAreSpooledToATemporaryFile() throws {
        let s = try TestServer(configure: { $0.bodySpoolThreshold = 1000 }, routes: Self.echoRoutes)
        let c = try s.client()
        let body = [UInt8](repeating: 0x42, count: 300_000)
        c.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        #expect(c.responses(1).first?.text == "file 300000 300000 true")
        // And chunked bodies are spooled the same way.
        var chunked = Array("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for _ in 0..<3 { chunked += Array("2710\r\n".utf8) + [UInt8](repeating: 0x43, count: 10000) + [13, 10] }
        chunked += Array("0\r\n\r\n".utf8)
        c.send(chunked)
        #expect(c.responses(1).first?.text == "file 30000 30000 true")
    }

    @Test func headerDeadlineClosesASlowClient() throws {
        let s = try TestServer(configure: { $0.headerTimeout = 0.5 }, routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        let started = Date()
        let r = c.read(timeout: 5)
        #expect(r.closed)
        #expect(TestResponse.parseAll(r.bytes).first?.status == 408)
        #expect(Date().timeIntervalSince(started) < 4)
    }

    @Test func bodyDeadlineClosesAStalledUpload() throws {
        let s = try TestServer(configure: { $0.bodyTimeout = 0.5 }, routes: Self.echoRoutes)
        let c = try s.client()
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        let r = c.read(timeout: 5)
        #expect(r.closed)
        #expect(TestResponse.parseAll(r.bytes).first?.status == 408)
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        let s = try TestServer(configure: { $0.idleTimeout = 0.5 }, routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = c.read(timeout: 5)
        #expect(TestResponse.parseAll(r.bytes).first?.status == 200)
        #expect(r.closed)
    }

    @Test func slowReaderIsDisconnectedAfterTheWriteDeadline() throws {
        let s = try TestServer(configure: { $0.writeTimeout = 0.5 }, routes: Self.echoRoutes)
        let c = try s.client()
        var small: Int32 = 4096
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        c.send("GET /huge-stream HTTP/1.1\r\nHost: t\r\n\r\n")
        sleep(2) // never read: the server's writes stall
        // Whatever was buffered can still be read, then the connection ends, incomplete.
        let r = c.read(timeout: 10)
        let (closed, count) = (r.closed, r.bytes.count)
        print("slow reader: received \(count) bytes before the close")
        #expect(closed)
        #expect(count < 512 * 64 * 1024)
    }

    @Test func streamedResponseIsChunked() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = c.responses(2)
        #expect(r.first?.header("transfer-encoding") == "chunked")
        #expect(r.first?.text.hasSuffix("row 999\n") == true)
        #expect(r.first?.text.split(separator: "\n").count == 1000)
        #expect(r.last?.text == "你好")
    }

    @Test func gzipForTextWhenAcceptedButNotForTinyBodies() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\n\r\n")
        let big = try #require(c.responses(1).first)
        #expect(big.header("content-encoding") == "gzip")
        #expect(big.header("vary") == "Accept-Encoding")
        #expect(Gzip.decompress(big.body).map { String(decoding: $0, as: UTF8.self) } == String(repeating: "近邻党建 ", count: 2000))
        c.send("GET /hello HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n")
        let tiny = try #require(c.responses(1).first)
        #expect(tiny.header("content-encoding") == nil)
        c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        let plain = try #require(c.responses(1).first)
        #expect(plain.header("content-encoding") == nil)
        #expect(plain.header("vary") == "Accept-Encoding")
    }

    @Test func headAnswersWithoutBody() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let raw = c.read(timeout: 2) { String(decoding: $0, as: UTF8.self).components(separatedBy: "HTTP/1.1 200").count == 3 && $0.suffix(6) == Array("你好".utf8) }
        let text = String(decoding: raw.bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.components(separatedBy: "Content-Length: 6").count == 3)
        #expect(text.hasSuffix("\r\n\r\n你好"))
    }

    @Test func handlerErrorGives500AndServerKeepsServing() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(c.responses(2).map(\.status) == [500, 200])
    }

    @Test func notFoundAndMethodNotAllowed() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /nope HTTP/1.1\r\nHost: t\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /items/%E4%B8%80 HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = c.responses(3)
        #expect(r.map(\.status) == [404, 405, 200])
        #expect(r[safe: 1]?.header("allow") == "GET, HEAD")
        #expect(r[safe: 2]?.text == "item 一")
    }

    /// Literal routes are found by their normalized path; a path they do not take is only tried
    /// against patterns with parameters, then the fallback.
    @Test func literalPathsMatchWithEmptySegmentsAndTheRestFallsThrough() throws {
        let s = try TestServer { r in
            Self.echoRoutes(&r)
            r.get("/items/new") { _ in HTTPResponse(text: "new item") }
            r.fallback = { req in HTTPResponse(text: "fallback \(req.path)") }
        }
        let c = try s.client()
        for path in ["/hello", "//hello", "/hello/", "/%68ello", "/items/new", "/items//new", "/items/7", "/hello/x", "/other"] {
            c.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
        }
        let r = c.responses(9)
        #expect(r.map(\.text) == ["你好", "你好", "你好", "你好", "new item", "new item", "item 7",
                                 "fallback /hello/x", "fallback /other"])
    }

    @Test func malformedRequestGets400AndTheConnectionCloses() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = c.read(timeout: 4)
        #expect(r.closed)
        #expect(TestResponse.parseAll(r.bytes).map(\.status) == [400])
    }

    @Test func connectionsBeyondTheCapAreRefusedWith503() throws {
        let s = try TestServer(configure: { $0.maxConnections = 2 }, routes: Self.echoRoutes)
        let a = try s.client(), b = try s.client()
        a.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        b.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(a.responses(1).first?.status == 200)
        #expect(b.responses(1).first?.status == 200)
        let c = try s.client()
        let r = c.read(timeout: 3)
        #expect(TestResponse.parseAll(r.bytes).first?.status == 503)
        #expect(r.closed)
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let busy = try s.client()
        let idle = try s.client()
        busy.send("GET /slow?inflight HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)
        let stopped = DispatchSemaphore(value: 0)
        let server = s.server
        let thread = Thread {
            server.shutdown()
            server.waitUntilStopped()
            stopped.signal()
        }
        thread.start()
        let r = busy.read(timeout: 5)
        let responses = TestResponse.parseAll(r.bytes)
        #expect(responses.first?.status == 200)
        #expect(responses.first?.text == "slow inflight")
        #expect(responses.first?.header("connection") == "close")
        #expect(r.closed)
        #expect(idle.read(timeout: 3).closed)
        #expect(stopped.wait(timeout: .now() + 5) == .success)
        #expect(throws: (any Error).self) { _ = try RawClient(port: s.port) }
    }

    @Test func thousandIdleConnectionsDoNotCostThreadsOrDelayAFreshRequest() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let before = threadCount()
        var idle: [RawClient] = []
        for _ in 0..<1000 { idle.append(try s.client()) }
        // Half of them have started a request and stalled mid-header.
        for c in idle.prefix(500) { c.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ") }
        usleep(200_000)
        let fresh = try s.client()
        let started = Date()
        fresh.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = fresh.responses(1, timeout: 10)
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.first?.text == "你好")
        let after = threadCount()
        print("1,000 idle connections: fresh request answered in \(Int(elapsed * 1000)) ms; threads \(before) → \(after)")
        #expect(after - before < 50)
        // Everyone is still connected and can be served.
        idle[700].send("GET /items/700 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(idle[700].responses(1).first?.text == "item 700")
    }

    @Test func halfClosedClientStillGetsItsAnswer() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        c.shutdownWrite()
        let r = c.read(timeout: 3)
        #expect(TestResponse.parseAll(r.bytes).first?.text == "你好")
        #expect(r.closed)
    }

    @Test func optionsAsteriskAnswersAllow() throws {
        let s = try TestServer(routes: Self.echoRoutes)
        let c = try s.client()
        c.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = c.responses(1).first
        #expect(r?.status == 200)
        #expect(r?.header("allow")?.contains("GET") == true)
    }

    /// Handlers run on the worker pool unless they have earned the loop: with one loop, four
    /// requests to a handler that blocks for a second do not hold up a quick one.
    @Test func aBlockingHandlerDoesNotStallItsLoop() throws {
        let s = try TestServer(configure: { $0.loopCount = 1 }) { router in
            router.add(.get, "/sleep") { _ in usleep(1_000_000); return HTTPResponse(text: "slept") }
            router.add(.get, "/quick", options: RouteOptions(inline: true)) { _ in HTTPResponse(text: "quick") }
        }
        let sleepers = try (0..<4).map { _ in try s.client() }
        for c in sleepers { c.send("GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n") }
        usleep(100_000)
        let quick = try s.client()
        var slowest = 0.0
        for _ in 0..<20 {
            let started = Date()
            quick.send("GET /quick HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(quick.responses(1, timeout: 5).first?.text == "quick")
            slowest = max(slowest, Date().timeIntervalSince(started))
        }
        #expect(slowest < 0.5, "a quick request waited \(Int(slowest * 1000)) ms behind the sleeping handlers")
        for c in sleepers { #expect(c.responses(1, timeout: 5).first?.text == "slept") }
    }

    /// A GET handler earns the loop after `trustAfter` quick runs and loses it with one slow
    /// run; other methods and handlers marked `offload` never earn it.
    @Test func handlersEarnTheLoopByAnsweringQuickly() throws {
        var router = Router()
        router.add(.get, "/page") { _ in HTTPResponse(text: "page") }
        router.add(.post, "/page") { _ in HTTPResponse(text: "posted") }
        router.add(.get, "/export", options: RouteOptions(offload: true)) { _ in HTTPResponse(text: "csv") }
        let page = try #require(router.routes.first { $0.method == .get && $0.pattern == "/page" })
        let post = try #require(router.routes.first { $0.method == .post })
        let export = try #require(router.routes.first { $0.pattern == "/export" })
        #expect(page.runsOnPool(.get), "unknown handlers start on the pool")
        for _ in 0..<HandlerTiming.trustAfter - 1 { page.timing.record(nanoseconds: 100_000) }
        #expect(page.runsOnPool(.get))
        page.timing.record(nanoseconds: HandlerTiming.budget)
        #expect(!page.runsOnPool(.get) && !page.runsOnPool(.head), "trusted after \(HandlerTiming.trustAfter) quick runs")
        page.timing.record(nanoseconds: HandlerTiming.budget + 1)
        #expect(page.runsOnPool(.get), "one slow run sends it back to the pool")
        for _ in 0..<100 { post.timing.record(nanoseconds: 1000); export.timing.record(nanoseconds: 1000) }
        #expect(post.runsOnPool(.post) && export.runsOnPool(.get))
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
