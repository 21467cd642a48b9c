import Foundation
import Testing
@testable import Security

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher()

    @Test func roundtrip() throws {
        let hash = try hasher.hash("正确的密码 correct horse")
        #expect(hasher.verify("正确的密码 correct horse", against: hash))
    }

    @Test func wrongPasswordFails() throws {
        let hash = try hasher.hash("secret-1")
        #expect(!hasher.verify("secret-2", against: hash))
        #expect(!hasher.verify("secret-1 ", against: hash))
        #expect(!hasher.verify("", against: hash))
    }

    @Test func formatIsYescrypt() throws {
        let hash = try hasher.hash("password")
        #expect(hash.hasPrefix("$y$"))
        #expect(hash.split(separator: "$").count == 4)
        #expect(!hasher.needsRehash(hash))
    }

    @Test func twoHashesOfOnePasswordDiffer() throws {
        let a = try hasher.hash("same password")
        let b = try hasher.hash("same password")
        #expect(a != b)
        #expect(hasher.verify("same password", against: a))
        #expect(hasher.verify("same password", against: b))
    }

    @Test func emptyAndInvalidPasswordsAreRefused() {
        #expect(throws: PasswordHashError.emptyPassword) { try hasher.hash("") }
        #expect(throws: PasswordHashError.containsNUL) { try hasher.hash("a\u{0}b") }
        #expect(throws: PasswordHashError.tooLong) {
            try hasher.hash(String(repeating: "x", count: PasswordHasher.maximumPasswordBytes + 1))
        }
    }

    @Test func malformedOrLockedHashesNeverVerify() {
        for stored in ["", "*", "*0", "*1", "!", "$y$", "$y$garbage", "not a hash", "$1$abc$def", "$y$j9T$\u{0}"] {
            #expect(!hasher.verify("password", against: stored), "stored: \(stored)")
        }
    }

    @Test func needsRehashWhenCostOrSchemeDiffers() throws {
        let cheap = PasswordHasher(cost: 4)
        let old = try cheap.hash("pw")
        #expect(cheap.verify("pw", against: old))
        #expect(!cheap.needsRehash(old))
        #expect(hasher.needsRehash(old))
        // A hash with another cost still verifies with the current hasher.
        #expect(hasher.verify("pw", against: old))
        // Other schemes (SHA-512 crypt, bcrypt) and garbage need a rehash.
        #expect(hasher.needsRehash("$6$salt$abcdef"))
        #expect(hasher.needsRehash("$2b$12$abcdefghijklmnopqrstuv"))
        #expect(hasher.needsRehash(""))
        #expect(hasher.needsRehash("*0"))
    }

    @Test func costIsClamped() {
        #expect(PasswordHasher(cost: 0).cost == PasswordHasher.costRange.lowerBound)
        #expect(PasswordHasher(cost: 99).cost == PasswordHasher.costRange.upperBound)
        #expect(PasswordHasher().cost == PasswordHasher.defaultCost)
    }

    /// Prints the time of one hash (informational; benchmarks, not unit tests, enforce targets).
    @Test func measureOneHash() throws {
        _ = try hasher.hash("warm-up")
        for cost in Set([5, 6, 7, PasswordHasher.defaultCost]).sorted() {
            let h = PasswordHasher(cost: cost)
            var best = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try h.hash("measure me")
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
                best = min(best, ms)
            }
            print("yescrypt cost \(cost): one hash took \(String(format: "%.1f", best)) ms (best of 3)")
        }
    }
}
