import Foundation
import Testing
@testable import HTTPCore

/// Every probe of the black-box conformance list, fed to the parser split at every byte offset:
/// the outcome never depends on how the bytes arrived.
struct ProbeSplitTests {
    struct Probe: CustomTestStringConvertible, Sendable {
        let id: String
        let expect: String
        let bytes: [UInt8]
        var testDescription: String { id }

        /// Statuses the parser itself may answer with; nil when the request is well-formed at the
        /// parser level (the router or server decides: 404, 405, 417, 2xx).
        var parserErrorStatuses: Set<Int>? {
            let first = expect.split(separator: ",")[0].split(separator: "|").map(String.init)
            let decidedAbove = ["2xx", "3xx", "200", "204", "404", "405", "417"]
            if first.contains(where: { decidedAbove.contains($0) }) { return nil }
            return Set(first.compactMap { Int($0) })
        }
    }

    static let probes: [Probe] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/http-probes.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            if line.hasPrefix("#") { return nil }
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cols.count == 5 else { return nil }
            return Probe(id: cols[0], expect: cols[1], bytes: unescape(cols[3]))
        }
    }()

    @Test func fixtureLoaded() {
        #expect(Self.probes.count >= 60)
    }

    @Test(arguments: probes)
    func probeOutcomeIsIndependentOfSplitting(_ probe: Probe) {
        let whole = ParseOutcome.run([probe.bytes])
        if probe.expect.hasPrefix("400|200") {
            // Either reading is allowed (bare LF); splitting must still not change which one.
        } else if let allowed = probe.parserErrorStatuses {
            guard let error = whole.error else {
                Issue.record("\(probe.id): expected a parser error in \(allowed), got \(whole.events.count) events")
                return
            }
            #expect(allowed.contains(error.status.code), "\(probe.id): \(error)")
        } else {
            #expect(whole.error == nil, "\(probe.id): unexpected \(String(describing: whole.error))")
            #expect(whole.requests >= 1, "\(probe.id): no complete request")
        }
        for offset in 0...probe.bytes.count {
            let split = ParseOutcome.run([Array(probe.bytes[..<offset]), Array(probe.bytes[offset...])])
            #expect(split == whole, "\(probe.id) split at \(offset)")
        }
    }

    @Test(arguments: probes.filter { $0.bytes.count < 400 })
    func probeFedOneByteAtATime(_ probe: Probe) {
        let whole = ParseOutcome.run([probe.bytes])
        #expect(ParseOutcome.run(probe.bytes.map { [$0] }) == whole, "\(probe.id)")
    }
}

/// What the parser made of a byte stream: requests with bodies joined, then its error if any.
struct ParseOutcome: Equatable {
    var events: [String] = []
    var requests = 0
    var error: HTTPParseError?

    static func run(_ pieces: [[UInt8]]) -> ParseOutcome {
        var parser = HTTPRequestParser()
        var outcome = ParseOutcome()
        var body: [UInt8] = []
        for piece in pieces {
            parser.feed(piece)
            while outcome.error == nil {
                do {
                    guard let event = try parser.next() else { break }
                    switch event {
                    case .head(let head):
                        outcome.events.append("head \(head.method) \(head.path) ? \(head.query) \(head.version) \(head.headers.fields.map { "\($0.name)=\($0.value)" }) \(head.framing)")
                    case .body(let bytes):
                        body += bytes
                    case .end(let trailers):
                        outcome.events.append("body \(body) trailers \(trailers.fields.map { "\($0.name)=\($0.value)" })")
                        outcome.requests += 1
                        body = []
                    }
                } catch {
                    outcome.error = error
                }
            }
        }
        return outcome
    }
}

/// The probe file's byte notation: C escapes and {TEXT*N}.
func unescape(_ text: String) -> [UInt8] {
    var expanded = text
    while let open = expanded.range(of: "{"), let star = expanded.range(of: "*", range: open.upperBound..<expanded.endIndex),
          let close = expanded.range(of: "}", range: star.upperBound..<expanded.endIndex),
          let n = Int(expanded[star.upperBound..<close.lowerBound]) {
        let unit = String(expanded[open.upperBound..<star.lowerBound])
        expanded.replaceSubrange(open.lowerBound..<close.upperBound, with: String(repeating: unit, count: n))
    }
    var out: [UInt8] = []
    let chars = Array(expanded.utf8)
    var i = 0
    while i < chars.count {
        if chars[i] == UInt8(ascii: "\\"), i + 1 < chars.count {
            switch chars[i + 1] {
            case UInt8(ascii: "r"): out.append(13); i += 2; continue
            case UInt8(ascii: "n"): out.append(10); i += 2; continue
            case UInt8(ascii: "t"): out.append(9); i += 2; continue
            case UInt8(ascii: "\\"): out.append(92); i += 2; continue
            case UInt8(ascii: "x"):
                if let v = UInt8(String(decoding: chars[(i + 2)..<(i + 4)], as: UTF8.self), radix: 16) {
                    out.append(v); i += 4; continue
                }
            default: break
            }
        }
        out.append(chars[i])
        i += 1
    }
    return out
}
