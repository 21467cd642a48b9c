import Domain
import Foundation
@testable import ResidentsFeature
import Testing

/// The file reading of the import, without a server: encodings, delimiters, RFC 4180 quoting.
@Suite struct ResidentImportParserTests {
    func records(_ text: String) -> [[String]] {
        CSVParser(bytes: Array(text.utf8)).records().map(\.fields)
    }

    @Test func quotedFieldsDoubledQuotesAndEmbeddedLineBreaks() {
        let rows = records("a,\"b,1\",\"say \"\"hi\"\"\"\r\n\"x\ny\",,z\r\n")
        #expect(rows == [["a", "b,1", "say \"hi\""], ["x\ny", "", "z"]])
    }

    @Test func lineNumbersCountPhysicalLinesAndSkipBlankRecords() {
        let parsed = CSVParser(bytes: Array("h1,h2\n\"a\nb\",c\n\n,\nd,e".utf8)).records()
        #expect(parsed.map(\.line) == [1, 2, 6])
        #expect(parsed.last?.fields == ["d", "e"])
    }

    @Test func lineEndsCRLFLFAndLoneCR() {
        #expect(records("a,b\r\nc,d\ne,f\rg,h") == [["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]])
        #expect(records("a,b,\n") == [["a", "b", ""]])
    }

    @Test func delimiterIsSniffedFromTheHeader() {
        #expect(CSVParser(bytes: Array("姓名\t身份证号\t备注\n张三\t1,2\tx".utf8)).delimiter == CSVParser.tab)
        #expect(CSVParser(bytes: Array("\"a\tb\",c\n".utf8)).delimiter == CSVParser.comma)
        #expect(records("姓名\t备注\n张三\t1,2") == [["姓名", "备注"], ["张三", "1,2"]])
    }

    @Test func encodings() throws {
        let text = "姓名,备注\n张三,你好\n"
        let utf8 = Array(text.utf8)
        #expect(try CSVDecoder.decode([0xEF, 0xBB, 0xBF] + utf8) == (utf8, .utf8BOM))
        #expect(try CSVDecoder.decode(utf8) == (utf8, .utf8))
        // 张三 in GB18030.
        let gb: [UInt8] = [0xD5, 0xC5, 0xC8, 0xFD]
        #expect(try CSVDecoder.decode(gb) == (Array("张三".utf8), .gb18030))
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in "张三".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(try CSVDecoder.decode(utf16) == (Array("张三".utf8), .utf16))
        #expect(throws: CSVFileError.self) { try CSVDecoder.decode([0xEF, 0xBB, 0xBF, 0xFF]) }
        #expect(!CSVDecoder.isValidUTF8([0xED, 0xA0, 0x80]), "surrogates are not UTF-8")
        #expect(!CSVDecoder.isValidUTF8([0xC0, 0x80]), "overlong")
        #expect(CSVDecoder.isValidUTF8(Array("a€😀".utf8)))
    }

    @Test func headerMapsTheStandardColumnsInOrderAndReportsTheRest() throws {
        let standard = ImportColumn.standardOrder.map(\.rawValue)
        #expect(standard == ["姓名", "身份证号", "手机号", "小区", "楼栋", "单元", "房号", "与房屋关系", "政治面貌", "标签", "备注"])
        let header = try ImportHeader.map(standard + ["社区", " 籍贯 "])
        #expect(header.index[.community] == 11)
        #expect(header.unknown == ["籍贯"])
        #expect(throws: CSVFileError.self) { try ImportHeader.map(["姓名", "身份证号"]) }
        #expect(throws: CSVFileError.self) { try ImportHeader.map(standard + ["姓名"]) }
        let aliased = try ImportHeader.map(["姓名", "身份证号码", "小区", "楼号", "单元", "房间号"])
        #expect(aliased.index[.idNumber] == 1 && aliased.index[.building] == 3 && aliased.index[.room] == 5)
    }

    @Test func tagsSplitOnEverySeparator() {
        #expect(ImportText.splitTags("独居老人、低保户,残疾人；退役军人|空巢老人 高龄老人") ==
            ["独居老人", "低保户", "残疾人", "退役军人", "空巢老人", "高龄老人"])
        #expect(ImportText.clean("\u{3000} 阳光小区\t") == "阳光小区")
    }
}

extension ImportRowError: CustomStringConvertible {
    public var description: String { "line \(line): \(message)" }
}
