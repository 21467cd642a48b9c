import Foundation

/// What an import found and did; stored as `import_jobs.report_json` and shown on the job page.
struct ImportReport: Sendable, Codable, Equatable {
    /// One row of the preview, as it will be saved, with the ID number and phone masked.
    struct PreviewRow: Sendable, Codable, Equatable {
        var line: Int
        var action: String
        var name: String
        var idNumber: String
        var sex: String
        var birthDate: String
        var phone: String
        var address: String
        var relation: String
        var politicalStatus: String
        var tags: String
        var notes: String
    }

    var filename = ""
    var dryRun = true
    /// Whether the rows were written (a commit without errors).
    var committed = false
    /// A problem with the file as a whole (encoding, header): nothing was read.
    var fileError: String?
    var encoding = ""
    var delimiter = ""
    var totalRows = 0
    var validRows = 0
    var created = 0
    var updated = 0
    var unchanged = 0
    var buildingsCreated = 0
    var housesCreated = 0
    /// "小区 楼栋" of the buildings that are (or would be) created, at most `maxListed`.
    var newBuildings: [String] = []
    var unknownColumns: [String] = []
    var errorCount = 0
    /// The failing rows, in line order, at most `maxErrors`.
    var errors: [ImportRowError] = []
    var preview: [PreviewRow] = []
    var seconds = 0.0
    /// Where the time went, phase by phase (see `ImportClock`); logged when a job ends.
    var phases: [PhaseTime] = []

    struct PhaseTime: Sendable, Codable, Equatable {
        var phase: String
        var seconds: Double
    }

    /// Takes the clock's elapsed time and laps so far.
    mutating func time(by clock: ImportClock) {
        seconds = clock.elapsed
        phases = clock.phases
    }

    /// "read 0.10 s, check 0.36 s, …", for the log.
    var phaseSummary: String {
        phases.map { "\($0.phase) \(String(format: "%.2f", $0.seconds)) s" }.joined(separator: ", ")
    }

    static let maxErrors = 5000
    static let maxPreview = 20
    static let maxListed = 100

    mutating func addError(_ error: ImportRowError) {
        errorCount += 1
        if errors.count < Self.maxErrors { errors.append(error) }
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ json: String?) -> ImportReport? {
        guard let json, let data = json.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(ImportReport.self, from: data)
    }

    /// The counts for the audit log entry.
    var auditSummary: String {
        let summary: [String: AnyCodableCount] = [
            "rows": .int(totalRows), "created": .int(created), "updated": .int(updated), "unchanged": .int(unchanged),
            "buildings_created": .int(buildingsCreated), "houses_created": .int(housesCreated), "filename": .text(filename),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(summary) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Laps of one import, in order: each `lap` closes the phase that ran since the previous one.
final class ImportClock {
    private let started = DispatchTime.now().uptimeNanoseconds
    private var last: UInt64
    private(set) var phases: [ImportReport.PhaseTime] = []

    init() { last = started }

    /// Seconds since the clock started.
    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

    func lap(_ phase: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        phases.append(.init(phase: phase, seconds: Double(now - last) / 1e9))
        last = now
    }
}

/// A number or a text, for the small JSON objects of the audit entry.
enum AnyCodableCount: Encodable, Sendable {
    case int(Int)
    case text(String)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}
