import CCrypt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from `PasswordHasher.hash(_:)`.
public enum PasswordHashError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The password is empty.
    case emptyPassword
    /// The password contains a NUL byte, which crypt(3) would silently truncate at.
    case containsNUL
    /// The password is longer than `PasswordHasher.maximumPasswordBytes`.
    case tooLong
    /// libxcrypt could not generate a setting (salt) string.
    case saltGenerationFailed(errno: Int32)
    /// libxcrypt failed to hash (NULL result or a `*` failure token).
    case hashingFailed(errno: Int32)

    public var description: String {
        switch self {
        case .emptyPassword: return "password is empty"
        case .containsNUL: return "password contains a NUL byte"
        case .tooLong: return "password is longer than \(PasswordHasher.maximumPasswordBytes) bytes"
        case .saltGenerationFailed(let e): return "crypt_gensalt_rn failed (errno \(e))"
        case .hashingFailed(let e): return "crypt_ra failed (errno \(e))"
        }
    }
}

/// Password hashing with yescrypt from the system's libxcrypt (the `$y$` format /etc/shadow uses).
///
/// Cost: each yescrypt step doubles memory and time; `defaultCost` 7 is the level inside the
/// 50–100 ms target on the 2-core machines this runs on (`SecurityTests.measureOneHash` prints it).
///
/// Hashing blocks the calling thread for the whole duration; call it off the I/O loop.
public struct PasswordHasher: Sendable {
    /// yescrypt cost used for new hashes unless another is given.
    public static let defaultCost = 7
    /// libxcrypt accepts yescrypt costs 1...11.
    public static let costRange: ClosedRange<Int> = 1...11
    /// Upper bound on a password's UTF-8 length (a generous limit that bounds hashing work).
    public static let maximumPasswordBytes = 1024

    /// The yescrypt cost used for new hashes (clamped into `costRange`).
    public let cost: Int
    /// The `$y$<params>$` prefix that hashes made with `cost` carry; nil if libxcrypt refused.
    private let currentParams: String?

    public init(cost: Int = PasswordHasher.defaultCost) {
        let clamped = min(max(cost, Self.costRange.lowerBound), Self.costRange.upperBound)
        self.cost = clamped
        // The params field depends only on the cost, not on the salt, so generate one setting
        // (with fixed dummy salt bytes to avoid touching the OS RNG) and keep its params field.
        let dummySalt = [CChar](repeating: 0x2A, count: 16)
        let setting = try? Self.generateSetting(cost: clamped, randomBytes: dummySalt)
        self.currentParams = setting.flatMap { Self.paramsField(of: $0) }
    }

    /// Hashes `password` with a fresh random salt. Two hashes of one password differ.
    public func hash(_ password: String) throws -> String {
        try Self.validate(password)
        let setting = try Self.generateSetting(cost: cost, randomBytes: nil)
        guard let result = Self.cryptRA(password, setting: setting), Self.isSuccess(result) else {
            throw PasswordHashError.hashingFailed(errno: errno)
        }
        return result
    }

    /// True when `password` hashes to `hash`. Any failure (malformed or locked hash, invalid
    /// password, libxcrypt error) yields false. The comparison of the result is constant-time.
    public func verify(_ password: String, against hash: String) -> Bool {
        guard (try? Self.validate(password)) != nil else { return false }
        guard !hash.isEmpty, !hash.hasPrefix("*"), !hash.utf8.contains(0) else { return false }
        guard let result = Self.cryptRA(password, setting: hash), Self.isSuccess(result) else {
            return false
        }
        return constantTimeEquals(result, hash)
    }

    /// True when `hash` was not made with this hasher's algorithm and cost (another scheme,
    /// another yescrypt cost, or unparseable), so it should be replaced after a successful login.
    public func needsRehash(_ hash: String) -> Bool {
        guard hash.hasPrefix("$y$"), let params = Self.paramsField(of: hash), let current = currentParams else {
            return true
        }
        return params != current
    }

    // MARK: - libxcrypt

    private static func validate(_ password: String) throws {
        if password.isEmpty { throw PasswordHashError.emptyPassword }
        if password.utf8.contains(0) { throw PasswordHashError.containsNUL }
        if password.utf8.count > maximumPasswordBytes { throw PasswordHashError.tooLong }
    }

    /// A crypt result is a failure when it is a `*` token (libxcrypt's failure tokens `*0`/`*1`)
    /// or does not look like a modular-crypt string.
    private static func isSuccess(_ result: String) -> Bool {
        !result.isEmpty && !result.hasPrefix("*") && result.hasPrefix("$")
    }

    /// The params field of `$y$<params>$<salt>$<hash>` (or of a setting `$y$<params>$<salt>`).
    private static func paramsField(of hash: String) -> String? {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == "y", !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }

    /// `crypt_gensalt_rn("$y$", cost, rbytes, nrbytes, …)`. With `randomBytes == nil` libxcrypt
    /// draws the salt from the OS random source itself.
    private static func generateSetting(cost: Int, randomBytes: [CChar]?) throws -> String {
        var output = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let outputSize = Int32(output.count)
        let produced: Bool = output.withUnsafeMutableBufferPointer { out in
            guard let outBase = out.baseAddress else { return false }
            let result: UnsafeMutablePointer<CChar>?
            if let randomBytes {
                result = randomBytes.withUnsafeBufferPointer { rb in
                    crypt_gensalt_rn("$y$", UInt(cost), rb.baseAddress, Int32(rb.count), outBase, outputSize)
                }
            } else {
                result = crypt_gensalt_rn("$y$", UInt(cost), nil, 0, outBase, outputSize)
            }
            return result != nil
        }
        guard produced else { throw PasswordHashError.saltGenerationFailed(errno: errno) }
        let setting = output.withUnsafeBufferPointer { buf -> String in
            let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard setting.hasPrefix("$y$") else { throw PasswordHashError.saltGenerationFailed(errno: errno) }
        return setting
    }

    /// `crypt_ra`: libxcrypt allocates the (32 KiB) `struct crypt_data` on the heap; the result
    /// is copied out, then the buffer (which held the passphrase) is wiped and freed.
    private static func cryptRA(_ password: String, setting: String) -> String? {
        var data: UnsafeMutableRawPointer? = nil
        var size: Int32 = 0
        defer {
            if let data {
                if size > 0 { wipe(data, count: Int(size)) }
                free(data)
            }
        }
        guard let result = crypt_ra(password, setting, &data, &size) else { return nil }
        return String(cString: result)
    }

    /// Zeroes memory in a way the optimizer does not remove (explicit_bzero).
    private static func wipe(_ pointer: UnsafeMutableRawPointer, count: Int) {
        explicit_bzero(pointer, count)
    }
}
