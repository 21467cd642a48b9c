#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// A blocking loopback client that speaks raw bytes, so tests see exactly what the server sends.
public final class RawClient {
    public let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw ClientError.connect(errno) }
    }

    deinit { close(fd) }

    public enum ClientError: Error { case connect(Int32) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until `done` says the bytes so far are enough, the peer closes, or `timeout` passes.
    /// Returns the bytes and whether the peer closed.
    public func read(timeout: Double = 5, until done: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool) {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            if done(data) { return (data, false) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            if poll(&pfd, 1, remaining) <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (data, true) }
            data += buffer[0..<n]
        }
        return (data, false)
    }

    /// Reads `count` complete responses.
    public func responses(_ count: Int, timeout: Double = 5, head: Bool = false) -> [TestResponse] {
        let result = read(timeout: timeout) { TestResponse.parseAll($0, head: head).count >= count }
        return TestResponse.parseAll(result.bytes, head: head)
    }
}

public struct TestResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public func headers(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Splits raw bytes into complete responses (interim 1xx responses included).
    public static func parseAll(_ data: [UInt8], head: Bool = false) -> [TestResponse] {
        var out: [TestResponse] = []
        var i = 0
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        while i < data.count {
            guard let end = find(crlfcrlf, in: data, from: i) else { break }
            let headText = String(decoding: data[i..<end], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { break }
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            var response = TestResponse(status: status, headers: headers, body: [])
            i = end + 4
            if status < 200 || status == 204 || status == 304 || head {
                out.append(response)
                continue
            }
            if response.header("transfer-encoding")?.lowercased() == "chunked" {
                var body: [UInt8] = []
                while true {
                    guard let le = find([13, 10], in: data, from: i),
                          let size = Int(String(decoding: data[i..<le], as: UTF8.self).split(separator: ";")[0], radix: 16) else { return out }
                    let start = le + 2
                    if size == 0 {
                        guard let te = find(crlfcrlf, in: data, from: le) else { return out }
                        i = te + 4
                        break
                    }
                    guard start + size + 2 <= data.count else { return out }
                    body += data[start..<start + size]
                    i = start + size + 2
                }
                response.body = body
            } else if let length = response.header("content-length").flatMap({ Int($0) }) {
                guard i + length <= data.count else { return out }
                response.body = Array(data[i..<i + length])
                i += length
            } else {
                response.body = Array(data[i...])
                i = data.count
            }
            out.append(response)
        }
        return out
    }

    public static func find(_ needle: [UInt8], in data: [UInt8], from: Int) -> Int? {
        guard data.count >= needle.count, from <= data.count - needle.count else { return nil }
        var j = from
        while j <= data.count - needle.count {
            if data[j] == needle[0] && Array(data[j..<j + needle.count]) == needle { return j }
            j += 1
        }
        return nil
    }
}

public func threadCount() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("Threads:") {
        return Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? -1
    }
    return -1
}
