import HTTPCore
import Testing
@testable import Web

@Suite struct CookiesTests {
    @Test func parsesPairsToleratingSpaces() {
        let cookies = Cookies.parse("sid=abc123;  theme=dark ;lang=zh-CN")
        #expect(cookies == ["sid": "abc123", "theme": "dark", "lang": "zh-CN"])
    }

    @Test func firstOccurrenceOfANameWins() {
        #expect(Cookies.parse("sid=new; sid=old")["sid"] == "new")
    }

    @Test func malformedPairsAreIgnored() {
        let cookies = Cookies.parse("novalue; =orphan; ok=1;;; bad name=2; x=")
        #expect(cookies == ["ok": "1", "x": ""])
    }

    @Test func quotedValuesAreUnwrapped() {
        let cookies = Cookies.parse("a=\"quoted\"; b=\"; c=\"\"; d=x=y")
        #expect(cookies["a"] == "quoted")
        #expect(cookies["b"] == "\"")
        #expect(cookies["c"] == "")
        #expect(cookies["d"] == "x=y")
    }

    @Test func readsEveryCookieFieldOfARequest() {
        let request = makeRequest("/", headers: [("Cookie", "a=1; b=2"), ("cookie", "a=9; c=3")])
        #expect(request.cookies == ["a": "1", "b": "2", "c": "3"])
        #expect(makeRequest("/").cookies.isEmpty)
    }

    @Test func setCookieDefaultsSuitASessionCookie() {
        let cookie = SetCookie(name: "sid", value: "tok_EN-123")
        #expect(cookie.headerValue == "sid=tok_EN-123; Path=/; HttpOnly; SameSite=Lax")
    }

    @Test func setCookieRendersEveryAttribute() {
        let cookie = SetCookie(name: "sid", value: "v", path: "/app", maxAge: 3600, httpOnly: false,
                               secure: true, sameSite: .strict)
        #expect(cookie.headerValue == "sid=v; Path=/app; Max-Age=3600; Secure; SameSite=Strict")
    }

    @Test func sameSiteNoneImpliesSecure() {
        let cookie = SetCookie(name: "x", value: "1", sameSite: .none)
        #expect(cookie.headerValue == "x=1; Path=/; Secure; HttpOnly; SameSite=None")
    }

    @Test func expiredCookieDeletes() {
        let cookie = SetCookie.expired(name: "sid")
        #expect(cookie.headerValue
            == "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax")
    }

    @Test func headerValueCannotBeInjected() {
        let cookie = SetCookie(name: "a b;c", value: "v\r\nSet-Cookie: evil=1; x\"y", path: "/p;q\r\n")
        let value = cookie.headerValue
        #expect(!value.contains("\r") && !value.contains("\n"))
        #expect(value == "abc=vSet-Cookie:evil=1xy; Path=/pq; HttpOnly; SameSite=Lax")
        // What it wrote parses back to the same name and value.
        #expect(Cookies.parse(value)["abc"] == "vSet-Cookie:evil=1xy")
    }
}
