import Dispatch
import HTTPCore
import Web

/// Where a request's time went, sent back in a `Server-Timing` header when the server runs with
/// `--server-timing` (off by default): `session` (finding the session and account), `query`
/// (what a handler wraps in `Context.timed(.query)`: its SQL and the rows it builds from it),
/// `render` (the template), `total` (the whole middleware chain and handler). Browsers show it
/// in their developer tools; the residents benchmark reads it.
public final class RequestTiming: @unchecked Sendable {
    // Only touched by the thread handling the request: a request is handled on one thread.
    public enum Phase: Int, CaseIterable, Sendable {
        case session, query, render
    }

    private var nanos = [UInt64](repeating: 0, count: Phase.allCases.count)

    public func measure<T>(_ phase: Phase, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { nanos[phase.rawValue] &+= DispatchTime.now().uptimeNanoseconds &- start }
        return try body()
    }

    /// `session;dur=0.081, query;dur=0.412, render;dur=0.240, total;dur=0.950` (milliseconds).
    func headerValue(total: UInt64) -> String {
        func ms(_ n: UInt64) -> String {
            let micros = n / 1_000
            let fraction = String(micros % 1_000)
            return "\(micros / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
        }
        return (Phase.allCases.map { "\($0);dur=\(ms(nanos[$0.rawValue]))" } + ["total;dur=\(ms(total))"])
            .joined(separator: ", ")
    }
}

enum TimingKey: RequestKey { typealias Value = RequestTiming }

/// First in the chain when Server-Timing is on: starts the clock and writes the header.
struct ServerTimingMiddleware: Middleware {
    func respond(to request: Request, next: (Request) throws -> HTTPResponse) throws -> HTTPResponse {
        let start = DispatchTime.now().uptimeNanoseconds
        var request = request
        let timing = RequestTiming()
        request[TimingKey.self] = timing
        var response = try next(request)
        response.headers.add("Server-Timing", timing.headerValue(total: DispatchTime.now().uptimeNanoseconds &- start))
        return response
    }
}

extension Request {
    /// Runs `body` as `phase` of the request's Server-Timing, when that is on.
    func timed<T>(_ phase: RequestTiming.Phase, _ body: () throws -> T) rethrows -> T {
        guard let timing = self[TimingKey.self] else { return try body() }
        return try timing.measure(phase, body)
    }
}
