import Crypto

/// A fresh random token of `bytes` random bytes from the system CSPRNG
/// (`SystemRandomNumberGenerator`, i.e. getrandom(2) on Linux), encoded as URL-safe base64
/// without padding (RFC 4648 §5). 32 bytes give a 43-character token: fit for session ids,
/// CSRF tokens and one-time links. Non-positive counts yield "".
public func randomToken(bytes: Int = 32) -> String {
    guard bytes > 0 else { return "" }
    var generator = SystemRandomNumberGenerator()
    var buffer = [UInt8]()
    buffer.reserveCapacity(bytes + 8)
    while buffer.count < bytes {
        var word = generator.next()
        for _ in 0..<8 {
            buffer.append(UInt8(truncatingIfNeeded: word))
            word >>= 8
        }
    }
    return base64URLEncode(buffer.prefix(bytes))
}

/// Lower-case hex SHA-256 of the UTF-8 bytes of `string` (for storing session tokens hashed).
public func sha256Hex(_ string: String) -> String {
    sha256Hex(Array(string.utf8))
}

/// Lower-case hex SHA-256 of `bytes`.
public func sha256Hex(_ bytes: [UInt8]) -> String {
    let digest = SHA256.hash(data: bytes)
    return hexEncode(Array(digest))
}

/// Compares two strings' UTF-8 bytes in time that depends only on their lengths, not on where
/// they differ. (A length difference is not hidden; compare fixed-length values such as
/// hashes and tokens.)
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    constantTimeEquals(Array(a.utf8), Array(b.utf8))
}

/// Byte-wise constant-time comparison; see `constantTimeEquals(_:_:)` for strings.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    let length = max(a.count, b.count)
    var difference: UInt64 = UInt64(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<length {
        let x: UInt8 = index < a.count ? a[index] : 0
        let y: UInt8 = index < b.count ? b[index] : 0
        difference |= UInt64(x ^ y)
    }
    return difference == 0
}

// MARK: - Encoding helpers

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
private let base64URLAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

func hexEncode(_ bytes: [UInt8]) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

func base64URLEncode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let input = Array(bytes)
    var out = [UInt8]()
    out.reserveCapacity((input.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= input.count {
        let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
        out.append(base64URLAlphabet[Int((n >> 18) & 63)])
        out.append(base64URLAlphabet[Int((n >> 12) & 63)])
        out.append(base64URLAlphabet[Int((n >> 6) & 63)])
        out.append(base64URLAlphabet[Int(n & 63)])
        index += 3
    }
    let remaining = input.count - index
    if remaining == 1 {
        let n = UInt32(input[index]) << 16
        out.append(base64URLAlphabet[Int((n >> 18) & 63)])
        out.append(base64URLAlphabet[Int((n >> 12) & 63)])
    } else if remaining == 2 {
        let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
        out.append(base64URLAlphabet[Int((n >> 18) & 63)])
        out.append(base64URLAlphabet[Int((n >> 12) & 63)])
        out.append(base64URLAlphabet[Int((n >> 6) & 63)])
    }
    return String(decoding: out, as: UTF8.self)
}
