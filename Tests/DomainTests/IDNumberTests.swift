import Foundation
@testable import Domain
import Testing

@Suite struct IDNumberTests {
    static let today = Date(timeIntervalSince1970: 1_790_000_000) // 2026-09

    func parse(_ text: String) -> Result<IDNumber, IDNumber.Problem> { IDNumber.parse(text, today: Self.today) }

    @Test func validNumberGivesBirthDateAndSex() throws {
        let id = try parse("11010519491231002X").get()
        #expect(id.value == "11010519491231002X")
        #expect(id.birthDateText == "1949-12-31")
        #expect(id.sexCode == "F") // sequence 002: even
        #expect(id.reversed == "X2001321949150101" + "1")
        let male = try parse("110101199003071110").get()
        #expect(male.sexCode == "M")
        #expect(male.birthDateText == "1990-03-07")
    }

    @Test func lowercaseXIsAcceptedAndStoredUppercase() throws {
        #expect(try parse(" 11010519491231002x ").get().value == "11010519491231002X")
    }

    @Test func badCheckDigitIsRefused() {
        #expect(parse("110105194912310021") == .failure(.badCheckDigit))
        #expect(parse("110101199003071117") == .failure(.badCheckDigit))
    }

    @Test func impossibleDatesAreRefused() {
        // 1990-02-30 and 1990-13-01, with otherwise well-formed digits.
        #expect(parse("110101199002300000").map(\.value) == .failure(.invalidDate))
        #expect(parse("110101199013010000").map(\.value) == .failure(.invalidDate))
        // 2100 is in the future.
        let future = "1101012100010100" + "1"
        let check = IDNumber.checkCharacter(for: Array(future)).map(String.init) ?? ""
        #expect(parse(future + check).map(\.value) == .failure(.futureDate))
    }

    @Test func leapDay() throws {
        let base = "11010120000229002"
        let check = try #require(IDNumber.checkCharacter(for: Array(base)))
        #expect(try parse(base + String(check)).get().birthDateText == "2000-02-29")
        let notLeap = "11010119000229002"
        let c2 = try #require(IDNumber.checkCharacter(for: Array(notLeap)))
        #expect(parse(notLeap + String(c2)).map(\.value) == .failure(.invalidDate))
    }

    @Test func fifteenDigitNumbersAreConverted() throws {
        // 110105 491231 002 → 110105 19491231 002 + check.
        let id = try parse("110105491231002").get()
        #expect(id.value == "11010519491231002X")
    }

    @Test func lengthAndCharacters() {
        #expect(parse("") == .failure(.empty))
        #expect(parse("1234") == .failure(.wrongLength))
        #expect(parse("11010519491231002Y") == .failure(.invalidCharacters))
        #expect(parse("1101051949123100２X") == .failure(.invalidCharacters))
    }

    /// The byte-level fast path agrees with the general parser on every vector: where it
    /// answers, the general one gives the same number; where it does not, the general one refuses
    /// or normalizes (spaces, lowercase x, 15 digits).
    @Test func fastPathAgreesWithTheGeneralParser() throws {
        let today = ChinaDay.of(Self.today)
        var vectors = ["11010519491231002X", "110101199003071110", " 11010519491231002x ", "110105194912310021",
                       "110101199003071117", "110101199002300000", "110101199013010000", "110105491231002", "", "1234",
                       "11010519491231002Y", "1101051949123100２X", "11010519491231002x", "110101190002290021",
                       "110101189912310011", "11010120260901001X", "110101202612310011"]
        // Every check character, day and month edge around a few birth dates, and today's.
        for first17 in ["11010519491231002", "11010120000229002", "11010119000229002", "44030619991301123",
                        "11010120260901001", "11010120260902001", "33010619000101123", "330106190001001123"] {
            for last in ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "x"] { vectors.append(first17 + last) }
        }
        for vector in vectors {
            let general = IDNumber.parseGeneral(vector, on: today)
            if let fast = IDNumber.parseCommon(vector, on: today) {
                #expect(general == .success(fast), "\(vector)")
            }
            #expect(IDNumber.parse(vector, on: today) == general, "\(vector)")
        }
    }

    @Test func ageOnADate() throws {
        let id = try parse("110101199003071110").get()
        #expect(id.age(on: Self.today) == 36)
    }

    @Test func phones() {
        #expect(PhoneNumber.parse("138 0013 8000") == .success("13800138000"))
        #expect(PhoneNumber.parse("+86 13800138000") == .success("13800138000"))
        #expect(PhoneNumber.parse("") == .success(nil))
        #expect((try? PhoneNumber.parse("23800138000").get()) == nil)
        if case .failure(let problem) = PhoneNumber.parse("1380013800") {
            #expect(problem.message == "手机号应为 11 位数字，以 1 开头")
        } else {
            Issue.record("a 10-digit phone was accepted")
        }
    }

    @Test func masks() {
        #expect(Mask.idNumber("330106199001011234") == "3301**********1234")
        #expect(Mask.phone("13856785678") == "138****5678")
        #expect(Mask.name("王芳") == "王*")
        #expect(Mask.name("欧阳小明") == "欧***")
    }
}
