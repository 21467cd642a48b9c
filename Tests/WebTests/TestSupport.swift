import Foundation
import HTTPCore
import Synchronization

/// A fresh directory under the system temporary directory, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        // Resolve symlinks (e.g. /tmp on macOS) so paths compare equal to canonical ones.
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath().path
        path = base + "/jinlin-webtests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let full = path + "/" + relative
        let dir = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Array(text.utf8))
    }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

func makeRequest(_ path: String, headers: [(String, String)] = []) -> HTTPRequest {
    makeRequest(.get, path, headers: headers)
}

func makeRequest(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [],
                 body: HTTPBody = .empty) -> HTTPRequest {
    let head = HTTPRequestHead(method: method, target: path, path: path, query: "", version: .http1_1,
                               headers: HTTPHeaders([("Host", "test")] + headers), framing: .none)
    return HTTPRequest(head: head, body: body)
}

/// Collects what a streamed response body writes.
final class CollectingWriter: HTTPBodyWriter {
    private let storage = Mutex<[UInt8]>([])
    func write(_ bytes: [UInt8]) throws { storage.withLock { $0.append(contentsOf: bytes) } }
    var bytes: [UInt8] { storage.withLock { $0 } }
}

/// The whole body of a response, running a streamed body to completion.
func bodyBytes(_ response: HTTPResponse) throws -> [UInt8] {
    switch response.body {
    case .bytes(let bytes):
        return bytes
    case .stream(let produce):
        let writer = CollectingWriter()
        try produce(writer)
        return writer.bytes
    }
}
