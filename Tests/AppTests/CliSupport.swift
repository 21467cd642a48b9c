import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The built `jinlin` executable, run as a child process the way an operator runs it.
enum JinlinBinary {
    static var packageRoot: URL { TestApp.packageRoot }

    /// `<package root>/.build/debug/jinlin`, built by `swift build` before `swift test`.
    static func path() throws -> String {
        let path = packageRoot.appendingPathComponent(".build/debug/jinlin").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("""
                \(path) is missing: build it first with `swift build` (or `swift build --product jinlin`), \
                then run `swift test`. `swift test` alone does not build executables.
                """)
        }
        return path
    }

    /// A fresh temporary folder; the caller removes it.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jinlin-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Runs `jinlin arguments…` to completion (killed after `timeout` seconds).
    static func run(_ arguments: [String], stdin: String? = nil, timeout: Double = 30) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        process.environment = cleanEnvironment()
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()

        // Drain both pipes while the child runs, so a chatty child never blocks on a full pipe.
        let collected = Collected()
        let readers = DispatchGroup()
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            DispatchQueue.global().async(group: readers) {
                let data = handle.readDataToEndOfFile()
                collected.set(data, stdout: isOut)
            }
        }
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            _ = readers.wait(timeout: .now() + 5)
            throw TestFailure("jinlin \(arguments.joined(separator: " ")) did not finish within \(timeout) s; killed")
        }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 10)
        let (stdout, stderr) = collected.get()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// The environment without JINLIN_* settings, so only the given flags count.
    static func cleanEnvironment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("JINLIN_") }
    }

    /// The database file of a data directory.
    static func databasePath(_ dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("jinlin.sqlite").path
    }

    /// Opens a database file read-only (no migration, no WAL switch).
    static func openReadOnly(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    func set(_ data: Data, stdout: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stdout { out = data } else { err = data }
    }

    func get() -> (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// `jinlin serve` as a child process on a free port.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    /// The first-run administrator password, when this start created the account.
    let adminPassword: String?
    let stderrPath: String

    private let output = LineBuffer()

    init(dataDirectory: URL, startTimeout: Double = 20) throws {
        stderrPath = dataDirectory.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).stderr").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try JinlinBinary.path())
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDirectory.path,
                             "--root", JinlinBinary.packageRoot.path, "--access-log", "off"]
        process.environment = JinlinBinary.cleanEnvironment()
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let handle = out.fileHandleForReading
        let buffer = output
        DispatchQueue.global().async {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                buffer.append(data)
            }
            buffer.close()
        }

        let marker = "近邻 Jinlin listening on http://127.0.0.1:"
        guard let text = output.wait(timeout: startTimeout, until: { text in
            text.range(of: marker).map { text[$0.upperBound...].contains("\n") } ?? false
        }),
              let range = text.range(of: marker) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw TestFailure("jinlin serve did not start within \(startTimeout) s\nstdout: \(output.text)\nstderr: \(log)")
        }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        guard let port = Int(digits) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("cannot read the port from: \(text)")
        }
        self.port = port
        adminPassword = text.split(separator: "\n")
            .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("password: ") }
            .map { String($0.trimmingCharacters(in: .whitespaces).dropFirst("password: ".count)) }
    }

    var pid: Int32 { process.processIdentifier }

    /// kill -9, then reap the child.
    func killHard() {
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM (graceful shutdown); SIGKILL if it has not stopped within `timeout`.
    /// Returns whether it stopped by itself.
    @discardableResult
    func stop(timeout: Double = 10) -> Bool {
        guard process.isRunning else { return true }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            killHard()
            return false
        }
        process.waitUntilExit()
        return true
    }

    var stderrText: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        killHard()
    }
}

/// Accumulates a child's output and lets a reader wait for a condition on it.
private final class LineBuffer: @unchecked Sendable {
    private let condition = NSCondition()
    private var data = Data()
    private var closed = false

    func append(_ chunk: Data) {
        condition.lock()
        data.append(chunk)
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// The text once `done` holds for it; nil on timeout or when the stream ends first.
    func wait(timeout: Double, until done: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let text = String(decoding: data, as: UTF8.self)
            if done(text) { return text }
            if closed || !condition.wait(until: deadline) { return nil }
        }
    }
}
