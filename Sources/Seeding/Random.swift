/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast, well-mixed generator whose output
/// depends only on the seed. The demo data must be identical for the same seed on every
/// machine and toolchain, so every draw goes through the helpers below, never through the
/// standard library's `shuffled(using:)` or `random(in:using:)`, whose algorithms may change
/// between Swift versions.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one named part of the demo data. Each module (grids, residents, …)
    /// takes its own stream, so adding draws to one never changes what another produces.
    public init(seed: UInt64, stream: String) {
        // FNV-1a of the label, mixed with the seed.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        var mixer = SplitMix64(seed: seed ^ hash)
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (0 when `bound` is not positive), by rejection so
    /// that every value is equally likely.
    public mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let n = UInt64(bound)
        // The largest multiple of n that fits; draws at or above it are rejected.
        let limit = UInt64.max - UInt64.max % n
        while true {
            let value = next()
            if value < limit { return Int(value % n) }
        }
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// One element of `items`; nil when it is empty.
    public mutating func element<T>(of items: [T]) -> T? {
        items.isEmpty ? nil : items[below(items.count)]
    }

    /// `items` in a random order (Fisher–Yates, written out so the order is stable).
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var result = items
        var i = result.count - 1
        while i > 0 {
            let j = below(i + 1)
            if i != j { result.swapAt(i, j) }
            i -= 1
        }
        return result
    }
}
