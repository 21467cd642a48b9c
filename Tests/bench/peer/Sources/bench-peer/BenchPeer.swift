// bench-peer: the Hummingbird 2 peer of Tests/bench/http-bench.sh.
//
//   bench-peer [--host 127.0.0.1] [--port 0] [--root DIR]
//
// Answers GET /healthz with "ok" (text/plain, 2 bytes, as jinlin does) and serves the files
// under DIR with Hummingbird's FileMiddleware. --port 0 lets the kernel pick a free port; once
// the server listens it prints one line, "listening on http://HOST:PORT/", which the script reads.
// Logging stays at warning level: no per-request lines and no access log (jinlin and nginx
// write an access log in the benchmark; the peer does not, which favours it slightly).
// SIGTERM or SIGINT shut it down gracefully.

import Foundation
import Hummingbird
import Logging

@main
struct BenchPeer {
    static func main() async throws {
        var host = "127.0.0.1"
        var port = 0
        var root = "Public"
        var args = CommandLine.arguments.dropFirst()
        while let arg = args.popFirst() {
            func value() -> String {
                guard let v = args.popFirst() else { fail("\(arg) needs a value") }
                return v
            }
            switch arg {
            case "--host": host = value()
            case "--port":
                guard let p = Int(value()), (0...65535).contains(p) else { fail("--port takes 0...65535") }
                port = p
            case "--root": root = value()
            case "-h", "--help":
                print("usage: bench-peer [--host 127.0.0.1] [--port 0] [--root DIR]")
                return
            default: fail("unknown argument \(arg)")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            fail("--root \(root) is not a directory")
        }

        var logger = Logger(label: "bench-peer")
        logger.logLevel = .warning

        let router = Router()
        router.add(middleware: FileMiddleware(root, logger: logger))
        // The same 2-byte body and content type as jinlin's /healthz; the buffer is built once.
        let ok = ByteBuffer(string: "ok")
        router.get("/healthz") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ok)
            )
        }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { [host, port] channel in
                let bound = channel.localAddress
                let line = "listening on http://\(bound?.ipAddress ?? host):\(bound?.port ?? port)/\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            },
            logger: logger
        )
        try await app.runService()
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("bench-peer: \(message)\n".utf8))
        exit(2)
    }
}
