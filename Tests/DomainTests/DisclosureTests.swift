import Domain
import Testing

@Suite struct DisclosureTests {
    @Test func maskedUnlessFullValuesAreAskedForWithAReasonByARoleThatMayReveal() {
        #expect(Disclosure.requested(full: false, reason: "", mayReveal: true) == .success(.masked))
        #expect(Disclosure.requested(full: false, reason: "核对", mayReveal: false) == .success(.masked))
        #expect(Disclosure.requested(full: true, reason: "核对", mayReveal: false) == .failure(.notAllowed))
        #expect(Disclosure.requested(full: true, reason: "  ", mayReveal: true) == .failure(.reasonMissing))
        #expect(Disclosure.requested(full: true, reason: " 核对 ", mayReveal: true) == .success(.full(reason: "核对")))
    }

    @Test func masksNumbersAndNames() {
        #expect(Disclosure.masked.idNumber("330106199001011234") == "3301**********1234")
        #expect(Disclosure.masked.phone("13812345678") == "138****5678")
        #expect(Disclosure.full(reason: "核对").phone("13812345678") == "13812345678")
        #expect(Disclosure.masked.phone(nil) == "")
        #expect(Mask.name("王芳芳") == "王**")
    }
}
