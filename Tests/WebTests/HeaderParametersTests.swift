import Testing
@testable import Web

@Suite struct HeaderParametersTests {
    @Test func parsesTokensAndQuotedStrings() {
        let p = HeaderParameters("form-data; name=\"photo\"; filename=\"a;b \\\"c\\\".jpg\"; Size=12 ")
        #expect(p.value == "form-data")
        #expect(p["name"] == "photo")
        #expect(p["filename"] == "a;b \"c\".jpg")
        #expect(p["size"] == "12")
    }

    @Test func keepsBackslashesBrowsersDoNotEscape() {
        #expect(HeaderParameters("form-data; filename=\"C:\\dir\\x.txt\"")["filename"] == "C:\\dir\\x.txt")
    }

    @Test func toleratesOddInput() {
        let p = HeaderParameters("Multipart/Form-Data ;; boundary=abc; boundary=second; novalue; =x; q=\"open")
        #expect(p.value == "multipart/form-data")
        #expect(p["boundary"] == "abc")
        #expect(p["q"] == "open")
        #expect(p["novalue"] == nil)
        #expect(HeaderParameters("").value == "")
        #expect(HeaderParameters("\"").parameters.isEmpty)
    }
}
