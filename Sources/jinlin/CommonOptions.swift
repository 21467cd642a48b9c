import App
import ArgumentParser
import Foundation
import Logging
import Storage

/// Options every command shares; each falls back to an environment variable.
struct CommonOptions: ParsableArguments {
    @Option(help: "Folder for the database and uploads (env JINLIN_DATA_DIR).")
    var dataDir: String?

    @Option(help: "Folder holding Public/, Templates/, Migrations/ (env JINLIN_ROOT; default: found from the working directory or the binary).")
    var root: String?

    func appConfiguration() throws -> AppConfiguration {
        let env = ProcessInfo.processInfo.environment
        let explicitRoot = root ?? env["JINLIN_ROOT"]
        guard let resourceRoot = AppConfiguration.locateResourceRoot(
            explicit: explicitRoot, executablePath: CommandLine.arguments[0]) else {
            throw ValidationError("cannot find Public/ and Templates/; run from the project folder or pass --root")
        }
        let data = dataDir ?? env["JINLIN_DATA_DIR"] ?? resourceRoot.appendingPathComponent("data").path
        return AppConfiguration(resourceRoot: resourceRoot, dataDirectory: URL(fileURLWithPath: data))
    }

    /// The database file of the data directory.
    func databasePath(_ config: AppConfiguration) -> String {
        Application.databasePath(in: config.dataDirectory)
    }
}

/// Logs to standard error, so standard output carries only the command's result.
/// Call once per process, before the first logger is made.
func bootstrapLogging() -> Logger {
    LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    return Logger(label: "jinlin")
}

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints `message` (Chinese first line, then English) to standard error and returns the
/// exit code to throw.
func failure(_ message: String, code: Int32 = 1) -> ExitCode {
    printError(message)
    return ExitCode(code)
}

/// Columns a string takes in a terminal: CJK and full-width characters take two.
func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { width, scalar in
        let v = scalar.value
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
        return width + (wide ? 2 : 1)
    }
}

/// Pads `text` with spaces to `width` terminal columns.
func padded(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - displayWidth(text)))
}

/// Rows as aligned columns (two spaces between), the last column unpadded.
func table(_ rows: [[String]], indent: String = "  ") -> String {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = max(widths[i], displayWidth(cell)) }
    }
    return rows.map { row in
        let line = indent + row.enumerated().map { i, cell in i == row.count - 1 ? cell : padded(cell, widths[i]) }
            .joined(separator: "  ")
        return String(line.reversed().drop { $0 == " " }.reversed())
    }.joined(separator: "\n")
}

/// `1.2 MB (1234567 bytes)`.
func formatSize(_ bytes: Int64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f", value) + " \(units[unit]) (\(bytes) bytes)"
}

/// Seconds with millisecond precision, `0.123 s`.
func formatSeconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let value = Double(seconds) + Double(attoseconds) / 1e18
    return String(format: "%.3f s", value)
}
