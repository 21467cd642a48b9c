import Testing
@testable import Web

@Suite struct FormDataTests {
    @Test func decodesPairsInOrderKeepingRepeatedNames() {
        let form = FormData(urlEncoded: Array("name=%E7%8E%8B%E5%B0%8F%E6%98%8E&tags=%E7%8B%AC%E5%B1%85%E8%80%81%E4%BA%BA&tags=%E4%BD%8E%E4%BF%9D%E6%88%B7&note=a+b%2Bc".utf8))
        #expect(form.count == 4)
        #expect(form["name"] == "王小明")
        #expect(form["tags"] == "独居老人")
        #expect(form.values(for: "tags") == ["独居老人", "低保户"])
        #expect(form["note"] == "a b+c")
        #expect(form["missing"] == nil)
        #expect(form.values(for: "missing") == [])
        #expect(form.fields.map(\.name) == ["name", "tags", "tags", "note"])
    }

    @Test func keyWithoutEqualsHasEmptyValueAndEmptyPairsAreSkipped() {
        let form = FormData(query: "dry_run&&a=&=x&b=1=2&")
        #expect(form.fields == [
            .init(name: "dry_run", value: ""), .init(name: "a", value: ""),
            .init(name: "", value: "x"), .init(name: "b", value: "1=2"),
        ])
        #expect(form.contains("dry_run"))
        #expect(FormData(query: "").isEmpty)
        #expect(FormData(query: "?page=2")["page"] == "2")
    }

    @Test func invalidEscapesAreKeptLiterally() {
        let form = FormData(query: "a=100%&b=%zz&c=%4&d=%4g%41&e=%%41")
        #expect(form["a"] == "100%")
        #expect(form["b"] == "%zz")
        #expect(form["c"] == "%4")
        #expect(form["d"] == "%4gA")
        #expect(form["e"] == "%A")
    }

    @Test func invalidUTF8BecomesReplacementCharacterInForms() {
        let form = FormData(query: "q=%FF%FEok")
        #expect(form["q"] == "\u{FFFD}\u{FFFD}ok")
        #expect(form.hasInvalidUTF8)
        #expect(!FormData(query: "q=%E7%8E%8B").hasInvalidUTF8)
    }

    @Test func percentDecodeReturnsNilForInvalidUTF8() {
        #expect(FormData.percentDecode("%E7%8E%8B") == "王")
        #expect(FormData.percentDecode("%C3%28") == nil)
        #expect(FormData.percentDecode("%FF") == nil)
        #expect(FormData.percentDecode("a+b") == "a+b")
        #expect(FormData.percentDecode("a+b", plusAsSpace: true) == "a b")
        #expect(FormData.percentDecode("%2e%2E/x") == "../x")
        #expect(FormData.percentDecode("50%") == "50%")
    }

    @Test func encodeEscapesEverythingButUnreserved() {
        let query = FormData.encode([("q", "王 小&明=1+2/?#"), ("page", "2"), ("a-b_c.d~", "~")])
        #expect(query == "q=%E7%8E%8B%20%E5%B0%8F%26%E6%98%8E%3D1%2B2%2F%3F%23&page=2&a-b_c.d~=~")
        #expect(FormData.percentEncode("A z%") == "A%20z%25")
    }

    @Test func encodeThenDecodeRoundTrips() {
        let pairs = [("名字", "张三 & 李四"), ("tags", "a+b"), ("tags", "100%"), ("empty", ""), ("emoji", "👍🏽")]
        let decoded = FormData(query: FormData.encode(pairs))
        #expect(decoded == FormData(pairs))
        #expect(decoded.encoded == FormData.encode(pairs))
    }

    @Test func arbitraryBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("%+&=aZ09\u{7f}".utf8) + [0x00, 0xFF, 0xC3, 0xE7]
        for _ in 0..<500 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            let form = FormData(urlEncoded: bytes)
            #expect(form.count <= length)
        }
    }
}
