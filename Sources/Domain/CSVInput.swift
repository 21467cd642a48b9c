import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text encodings a spreadsheet file saved by Excel (or WPS) comes in.
public enum CSVEncoding: String, Sendable, Codable {
    case utf8BOM, utf8, gb18030, utf16

    /// How the report names it.
    public var label: String {
        switch self {
        case .utf8BOM: "UTF-8（带 BOM）"
        case .utf8: "UTF-8"
        case .gb18030: "GB18030（GBK）"
        case .utf16: "UTF-16（Unicode 文本）"
        }
    }
}

/// Why a file could not be read at all (as opposed to a row that is wrong).
public struct CSVFileError: Error, Sendable, Equatable {
    public let message: String
    public init(message: String) { self.message = message }
}

/// Turns the bytes of an uploaded file into UTF-8: UTF-8 with or without a BOM, UTF-16 with a
/// BOM (Excel's "Unicode 文本"), or GB18030 (Excel's "CSV" on a Chinese Windows) converted with
/// iconv when the bytes are not valid UTF-8.
public enum CSVDecoder {
    public static func decode(_ bytes: [UInt8]) throws(CSVFileError) -> (utf8: [UInt8], encoding: CSVEncoding) {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            let body = Array(bytes[3...])
            guard isValidUTF8(body) else {
                throw CSVFileError(message: "文件开头标明是 UTF-8 编码，但内容不是有效的 UTF-8，请重新另存为“CSV UTF-8（逗号分隔）”后上传")
            }
            return (body, .utf8BOM)
        }
        if bytes.count >= 2, (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF) {
            // iconv's "UTF-16" reads the BOM to choose the byte order and drops it.
            guard let converted = convert(bytes, from: "UTF-16") else {
                throw CSVFileError(message: "文件是 UTF-16 编码，但内容无法转换，请另存为“CSV UTF-8（逗号分隔）”后上传")
            }
            return (converted, .utf16)
        }
        if isValidUTF8(bytes) { return (bytes, .utf8) }
        guard let converted = convert(bytes, from: "GB18030") else {
            throw CSVFileError(message: "无法识别文件的编码。请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”后重新上传")
        }
        return (converted, .gb18030)
    }

    /// Whether `bytes` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var i = 0
            while i < count {
                let b0 = buffer[i]
                if b0 < 0x80 { i += 1; continue }
                let need: Int
                var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
                switch b0 {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: need = 2
                case 0xED: need = 2; upper = 0x9F
                case 0xF0: need = 3; lower = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; upper = 0x8F
                default: return false
                }
                guard i + need < count else { return false }
                let b1 = buffer[i + 1]
                guard b1 >= lower && b1 <= upper else { return false }
                var k = 2
                while k <= need {
                    let b = buffer[i + k]
                    guard b >= 0x80 && b <= 0xBF else { return false }
                    k += 1
                }
                i += need + 1
            }
            return true
        }
    }

    /// Converts `bytes` from `encoding` to UTF-8 with glibc's iconv; nil when iconv is missing
    /// the encoding or the bytes are not valid in it.
    static func convert(_ bytes: [UInt8], from encoding: String) -> [UInt8]? {
        let descriptor = iconv_open("UTF-8", encoding)
        guard Int(bitPattern: descriptor) != -1 else { return nil }
        defer { iconv_close(descriptor) }
        if bytes.isEmpty { return [] }
        // GB18030 takes 1, 2 or 4 bytes per character and UTF-8 at most 4 (a 2-byte GB
        // character becomes 3 bytes): twice the input is always enough, plus slack.
        var output = [UInt8](repeating: 0, count: bytes.count * 2 + 16)
        var input = bytes
        let produced: Int? = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                guard let inBase = inBuffer.baseAddress, let outBase = outBuffer.baseAddress else { return nil }
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                let result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                guard result != -1, inLeft == 0 else { return nil }
                // Flush any shift state.
                _ = iconv(descriptor, nil, nil, &outPointer, &outLeft)
                return outBuffer.count - outLeft
            }
        }
        guard let produced else { return nil }
        output.removeSubrange(produced...)
        // A BOM that survived the conversion (UTF-16 files sometimes carry one per iconv).
        if output.count >= 3, output[0] == 0xEF, output[1] == 0xBB, output[2] == 0xBF {
            output.removeFirst(3)
        }
        return output
    }
}

/// One record of a CSV file and the line of the file it starts on (the header is line 1).
public struct CSVRecord: Sendable {
    public let line: Int
    public let fields: [String]
    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// RFC 4180 parsing of UTF-8 bytes: quoted fields with doubled quotes, embedded delimiters and
/// line breaks; CRLF, LF or a lone CR as line ends; comma or tab as the delimiter.
public struct CSVParser {
    public let bytes: [UInt8]
    public let delimiter: UInt8

    public static let comma = UInt8(ascii: ","), tab = UInt8(ascii: "\t"), quote = UInt8(ascii: "\""),
               cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        self.delimiter = Self.sniffDelimiter(bytes)
    }

    /// Tab when the header line has more tabs than commas (outside quotes), else comma.
    static func sniffDelimiter(_ bytes: [UInt8]) -> UInt8 {
        var commas = 0, tabs = 0, quoted = false
        for byte in bytes {
            if byte == quote { quoted.toggle(); continue }
            if quoted { continue }
            if byte == lf || byte == cr { break }
            if byte == comma { commas += 1 } else if byte == tab { tabs += 1 }
        }
        return tabs > commas ? tab : comma
    }

    /// Every record, with the line it starts on. Records whose fields are all empty (blank
    /// lines, Excel's trailing ",,,,") are skipped, but their lines still count.
    public func records() -> [CSVRecord] {
        var result: [CSVRecord] = []
        result.reserveCapacity(bytes.count / 64 + 1)
        bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var i = 0
            var line = 1
            var fields: [String] = []
            var recordLine = 1
            var field: [UInt8] = []
            field.reserveCapacity(64)

            func finishField(_ start: Int, _ end: Int) {
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self))
            }
            func finishRecord() {
                if fields.contains(where: { !$0.isEmpty }) {
                    result.append(CSVRecord(line: recordLine, fields: fields))
                }
                fields.removeAll(keepingCapacity: true)
            }

            while i < count {
                recordLine = line
                // One record.
                recordLoop: while true {
                    // One field starting at i.
                    if i < count && buffer[i] == Self.quote {
                        field.removeAll(keepingCapacity: true)
                        i += 1
                        while i < count {
                            let b = buffer[i]
                            if b == Self.quote {
                                if i + 1 < count && buffer[i + 1] == Self.quote {
                                    field.append(Self.quote)
                                    i += 2
                                    continue
                                }
                                i += 1
                                break
                            }
                            if b == Self.lf {
                                line += 1
                            } else if b == Self.cr {
                                if !(i + 1 < count && buffer[i + 1] == Self.lf) { line += 1 }
                            }
                            field.append(b)
                            i += 1
                        }
                        // Lenient: text after the closing quote up to the delimiter is kept.
                        while i < count, buffer[i] != delimiter, buffer[i] != Self.lf, buffer[i] != Self.cr {
                            field.append(buffer[i])
                            i += 1
                        }
                        fields.append(String(decoding: field, as: UTF8.self))
                    } else {
                        let start = i
                        while i < count {
                            let b = buffer[i]
                            if b == delimiter || b == Self.lf || b == Self.cr { break }
                            i += 1
                        }
                        finishField(start, i)
                    }
                    // After a field: delimiter, line end or end of input.
                    if i >= count {
                        finishRecord()
                        break recordLoop
                    }
                    let b = buffer[i]
                    if b == delimiter {
                        i += 1
                        if i >= count {
                            fields.append("")
                            finishRecord()
                            break recordLoop
                        }
                        continue
                    }
                    // A line end: CRLF, LF or CR.
                    if b == Self.cr && i + 1 < count && buffer[i + 1] == Self.lf { i += 2 } else { i += 1 }
                    line += 1
                    finishRecord()
                    break recordLoop
                }
            }
        }
        return result
    }
}
