import Testing
@testable import Security

@Suite struct TokensTests {
    @Test func randomTokenIsURLSafeAndUnique() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var seen = Set<String>()
        for _ in 0..<200 {
            let token = randomToken()
            #expect(token.count == 43)  // 32 bytes, unpadded base64
            #expect(token.allSatisfy { allowed.contains($0) })
            seen.insert(token)
        }
        #expect(seen.count == 200)
        #expect(randomToken(bytes: 16).count == 22)
        #expect(randomToken(bytes: 1).count == 2)
        #expect(randomToken(bytes: 0) == "")
    }

    @Test func base64URLMatchesRFC4648Vectors() {
        // RFC 4648 §10 vectors, unpadded; plus bytes that map to '-' and '_'.
        let vectors: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
            ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (input, expected) in vectors {
            #expect(base64URLEncode(Array(input.utf8)) == expected)
        }
        #expect(base64URLEncode([0xFB, 0xFF]) == "-_8")
    }

    @Test func sha256HexKnownAnswers() {
        #expect(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex("近邻").count == 64)
    }

    @Test func constantTimeEqualsBehaves() {
        #expect(constantTimeEquals("abc", "abc"))
        #expect(constantTimeEquals("", ""))
        #expect(!constantTimeEquals("abc", "abd"))
        #expect(!constantTimeEquals("abc", "ab"))
        #expect(!constantTimeEquals("", "a"))
        #expect(!constantTimeEquals("ab\u{0}", "ab"))
        #expect(constantTimeEquals("党建", "党建"))
    }
}
