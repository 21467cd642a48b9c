import HTTPCore

/// Feeds arbitrary bytes to the request parser, whole and split in two, and checks that both
/// readings agree. Any crash, hang or disagreement is a finding.
///
/// Fuzz:   swift build --sanitize=fuzzer -Xswiftc -DFUZZING --product HTTPFuzz --scratch-path .build-fuzz
///         .build-fuzz/debug/HTTPFuzz -max_total_time=600 corpus/
/// Replay: swift run HTTPFuzz FILE…   (an ordinary build runs inputs once, e.g. a crash file)
func parseAll(_ pieces: [ArraySlice<UInt8>]) -> [String] {
    var parser = HTTPRequestParser(bodyLimit: 1 << 16)
    var out: [String] = []
    var body = 0
    for piece in pieces {
        parser.feed(piece)
        while true {
            do {
                guard let event = try parser.next() else { break }
                switch event {
                case .head(let h): out.append("\(h.method) \(h.target) \(h.headers.count) \(h.framing)")
                case .body(let b): body += b.count
                case .end(let t): out.append("end \(body) \(t.count)"); body = 0
                }
            } catch {
                out.append("error \(error.status.code)")
                return out
            }
        }
    }
    return out
}

func check(_ bytes: [UInt8]) {
    let whole = parseAll([bytes[...]])
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let split = parseAll([bytes[..<cut], bytes[cut...]])
    // Both saw every byte, so they must have decided exactly the same things.
    if whole != split {
        print("disagreement: \(whole) vs \(split)")
        abort()
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
import Foundation

@main
struct Replay {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            check(Array(data))
            print("ok \(path)")
        }
    }
}
#endif

#if canImport(Glibc)
import Glibc
#endif
