import Foundation
import HTTPCore
import Testing
@testable import Web

/// Builds multipart bodies the way browsers do.
private struct BodyBuilder {
    let boundary: String
    var bytes: [UInt8] = []

    init(boundary: String = "----WebKitFormBoundary7MA4YWxkTrZu0gW") {
        self.boundary = boundary
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func field(_ name: String, _ value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String, _ filename: String, _ type: String, _ content: [UInt8]) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        bytes += content
        bytes += Array("\r\n".utf8)
    }

    mutating func close(epilogue: String = "") {
        bytes += Array("--\(boundary)--\r\n\(epilogue)".utf8)
    }
}

/// Content that stresses the delimiter search: CRLFs, dashes and partial boundaries.
private func trickyContent(boundary: String) -> [UInt8] {
    var content: [UInt8] = [0x00, 0xFF, 0x0D, 0x0A, 0x0D]
    content += Array("\r\n--".utf8)
    content += Array("\r\n--\(boundary.dropLast())".utf8)       // all but the last character
    content += Array("--\(boundary)".utf8)                       // no CRLF before: not a delimiter
    content += Array("\r\r\n-\r\n\r\n\r\n".utf8)
    content += (0...255).map { UInt8($0) }
    content += [0x0D]                                            // ends in CR right before the delimiter
    return content
}

private struct Snapshot: Equatable {
    var fields: FormData
    var files: [String]  // "field|filename|type|size|content-hex"
}

private func snapshot(_ form: MultipartForm) -> Snapshot {
    Snapshot(fields: form.fields, files: form.files.map { file in
        let content = (file.contents() ?? []).map { String($0, radix: 16) }.joined(separator: ",")
        return "\(file.fieldName)|\(file.filename)|\(file.contentType)|\(file.size)|\(content)"
    })
}

@Suite struct MultipartParserTests {
    private func sampleBody() -> BodyBuilder {
        var body = BodyBuilder()
        body.field("title", "社区活动 签到\r\n第二行")
        body.field("tags", "a")
        body.field("tags", "b")
        body.file("photo", "C:\\Users\\王\\照片.jpg", "image/jpeg", trickyContent(boundary: body.boundary))
        body.field("empty", "")
        body.close(epilogue: "ignored epilogue --\(body.boundary)--")
        return body
    }

    @Test func parsesFieldsAndFiles() throws {
        let dir = try TemporaryDirectory()
        let body = sampleBody()
        var parser = try MultipartParser(contentType: body.contentType, directory: dir.path)
        try parser.feed(body.bytes)
        let form = try parser.finish()
        #expect(form.fields["title"] == "社区活动 签到\r\n第二行")
        #expect(form.fields.values(for: "tags") == ["a", "b"])
        #expect(form.fields["empty"] == "")
        #expect(form.files.count == 1)
        let photo = try #require(form.file("photo"))
        #expect(photo.filename == "照片.jpg")
        #expect(photo.contentType == "image/jpeg")
        #expect(photo.path.hasPrefix(dir.path + "/"))
        // CRLFs, partial boundaries and all 256 byte values survive byte-exact.
        let expected = trickyContent(boundary: body.boundary)
        #expect(photo.size == expected.count)
        #expect(photo.contents() == expected)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: photo.path))) == expected)
        form.removeFiles()
        #expect(try dir.contents().isEmpty)
    }

    @Test func splittingAtEveryOffsetGivesTheSameResult() throws {
        let dir = try TemporaryDirectory()
        let body = sampleBody()
        var whole = try MultipartParser(contentType: body.contentType, directory: dir.path)
        try whole.feed(body.bytes)
        let baselineForm = try whole.finish()
        let baseline = snapshot(baselineForm)
        baselineForm.removeFiles()

        for cut in 0...body.bytes.count {
            var parser = try MultipartParser(contentType: body.contentType, directory: dir.path)
            try parser.feed(body.bytes[0..<cut])
            try parser.feed(body.bytes[cut...])
            let form = try parser.finish()
            #expect(snapshot(form) == baseline, "split at \(cut)")
            form.removeFiles()
        }
        // And one byte at a time.
        var parser = try MultipartParser(contentType: body.contentType, directory: dir.path)
        for byte in body.bytes { try parser.feed([byte]) }
        let form = try parser.finish()
        #expect(snapshot(form) == baseline)
        form.removeFiles()
        #expect(try dir.contents().isEmpty)
    }

    @Test func largeRandomBinaryFileInRandomChunks() throws {
        let dir = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        var content = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Sprinkle near-delimiters through it: "\r\n--short" followed by anything but the
        // boundary's last character "X" (which would make it a real delimiter).
        let near = Array("\r\n--short".utf8)
        let followers: [UInt8] = [13, UInt8(ascii: "-"), UInt8(ascii: "Y"), 0]
        for (k, position) in stride(from: 1000, to: 290_000, by: 7919).enumerated() {
            content.replaceSubrange(position..<position + near.count, with: near)
            content[position + near.count] = followers[k % followers.count]
        }
        var body = BodyBuilder(boundary: "shortX")
        body.file("csv", "data.bin", "application/octet-stream", content)
        body.close()
        var parser = try MultipartParser(contentType: "multipart/form-data; boundary=\"shortX\"", directory: dir.path)
        var offset = 0
        while offset < body.bytes.count {
            let next = min(body.bytes.count, offset + Int.random(in: 1...20_000, using: &generator))
            try parser.feed(body.bytes[offset..<next])
            offset = next
        }
        let form = try parser.finish()
        let file = try #require(form.file("csv"))
        #expect(file.size == content.count)
        #expect(file.contents() == content)
        form.removeFiles()
    }

    @Test func fileOverItsLimitIs413AndTempFilesAreRemoved() throws {
        let dir = try TemporaryDirectory()
        var body = BodyBuilder()
        body.file("first", "ok.txt", "text/plain", Array(repeating: 0x41, count: 1000))
        body.file("photo", "big.jpg", "image/jpeg", Array(repeating: 0x42, count: 20_000))
        body.close()
        let limits = MultipartLimits(maxPartBytes: 10 * 1024)
        var parser = try MultipartParser(contentType: body.contentType, limits: limits, directory: dir.path)
        var thrown: MultipartError?
        do throws(MultipartError) {
            var offset = 0
            while offset < body.bytes.count {
                let next = min(body.bytes.count, offset + 4096)
                try parser.feed(body.bytes[offset..<next])
                offset = next
            }
            _ = try parser.finish()
        } catch {
            thrown = error
        }
        let error = try #require(thrown)
        #expect(error.kind == .fileTooLarge)
        #expect(error.status.code == 413)
        #expect(error.message == "上传的文件过大（上限 10 KB）")
        #expect(try dir.contents().isEmpty)
        // The parser stays failed.
        #expect(throws: MultipartError.self) { try parser.feed([0x41]) }
    }

    @Test func limitMessagesName10MB() {
        #expect(MultipartError.fileTooLarge(limit: 10 << 20, filename: "x").message == "上传的文件过大（上限 10 MB）")
        #expect(MultipartError.sizeText(1536 * 1024) == "1.5 MB")
        #expect(MultipartError.sizeText(64 << 10) == "64 KB")
        #expect(MultipartError.sizeText(100) == "100 字节")
    }

    @Test func fieldOverItsLimitIs413() throws {
        var body = BodyBuilder()
        body.field("notes", String(repeating: "很", count: 100))
        body.close()
        let error = #expect(throws: MultipartError.self) {
            try MultipartParser.parse(body: .bytes(body.bytes), contentType: body.contentType,
                                      limits: MultipartLimits(maxFieldBytes: 299))
        }
        #expect(error?.kind == .fieldTooLarge)
        #expect(error?.status.code == 413)
        let ok = try MultipartParser.parse(body: .bytes(body.bytes), contentType: body.contentType,
                                           limits: MultipartLimits(maxFieldBytes: 300))
        #expect(ok.fields["notes"]?.count == 100)
    }

    @Test func totalAndPartCountLimits() throws {
        var body = BodyBuilder()
        for i in 0..<5 { body.field("f\(i)", "v") }
        body.close()
        let tooMany = #expect(throws: MultipartError.self) {
            try MultipartParser.parse(body: .bytes(body.bytes), contentType: body.contentType,
                                      limits: MultipartLimits(maxParts: 4))
        }
        #expect(tooMany?.kind == .tooManyParts)
        #expect(tooMany?.status.code == 413)
        #expect(try MultipartParser.parse(body: .bytes(body.bytes), contentType: body.contentType,
                                          limits: MultipartLimits(maxParts: 5)).fields.count == 5)

        let tooBig = #expect(throws: MultipartError.self) {
            try MultipartParser.parse(body: .bytes(body.bytes), contentType: body.contentType,
                                      limits: MultipartLimits(maxTotalBytes: body.bytes.count - 1))
        }
        #expect(tooBig?.kind == .totalTooLarge)
        #expect(tooBig?.status.code == 413)
    }

    @Test func missingCloseDelimiterIs400AndCleansUp() throws {
        let dir = try TemporaryDirectory()
        var body = BodyBuilder()
        body.field("a", "1")
        body.file("f", "x.bin", "application/octet-stream", [1, 2, 3])
        // No close delimiter.
        var parser = try MultipartParser(contentType: body.contentType, directory: dir.path)
        try parser.feed(body.bytes)
        let error = #expect(throws: MultipartError.self) { try parser.finish() }
        #expect(error?.kind == .incomplete)
        #expect(error?.status.code == 400)
        #expect(try dir.contents().isEmpty)

        // A body with no delimiter at all, and an empty body.
        for bytes in [Array("just text".utf8), []] {
            let e = #expect(throws: MultipartError.self) {
                try MultipartParser.parse(body: .bytes(bytes), contentType: body.contentType, directory: dir.path)
            }
            #expect(e?.status.code == 400)
        }
    }

    @Test func discardRemovesFilesOfAnAbandonedBody() throws {
        let dir = try TemporaryDirectory()
        var body = BodyBuilder()
        body.file("f", "x.bin", "application/octet-stream", Array(repeating: 7, count: 5000))
        var parser = try MultipartParser(contentType: body.contentType, directory: dir.path)
        try parser.feed(body.bytes)
        #expect(try dir.contents().count == 1)
        parser.discard()
        #expect(try dir.contents().isEmpty)
    }

    @Test func malformedPartsAre400() throws {
        let b = "XYZ"
        let cases: [String] = [
            "--XYZ\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--XYZ--\r\n",
            "--XYZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XYZ--\r\n",
            "--XYZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--XYZ--\r\n",
            "--XYZ\r\n\r\nempty headers\r\n--XYZ--\r\n",
            "--XYZjunk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XYZ--\r\n",
            "--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XYZZ\r\n",
        ]
        for text in cases {
            let error = #expect(throws: MultipartError.self) {
                try MultipartParser.parse(body: .bytes(Array(text.utf8)), contentType: "multipart/form-data; boundary=\(b)")
            }
            #expect(error?.status.code == 400, "\(text)")
        }
        // Oversized part header section.
        let huge = "--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: \(String(repeating: "p", count: 10_000))\r\n\r\nx\r\n--XYZ--\r\n"
        let error = #expect(throws: MultipartError.self) {
            try MultipartParser.parse(body: .bytes(Array(huge.utf8)), contentType: "multipart/form-data; boundary=XYZ")
        }
        #expect(error?.status.code == 400)
    }

    @Test func preambleTransportPaddingAndEpilogueAreTolerated() throws {
        let text = "This is the preamble.\r\n--XYZ  \t\r\ncontent-disposition: FORM-DATA; NAME=a\r\n\r\n1\r\n--XYZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--XYZ--trailing junk"
        let form = try MultipartParser.parse(body: .bytes(Array(text.utf8)), contentType: "Multipart/Form-Data; charset=utf-8; boundary=XYZ")
        #expect(form.fields == FormData([("a", "1"), ("b", "2")]))
    }

    @Test func boundaryFromContentType() throws {
        #expect(try MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(try MultipartParser.boundary(fromContentType: "multipart/form-data;boundary=\"a b:c=d\"") == "a b:c=d")
        #expect(try MultipartParser.boundary(fromContentType: "MULTIPART/FORM-DATA; BOUNDARY=q") == "q")

        let notMultipart = #expect(throws: MultipartError.self) {
            try MultipartParser.boundary(fromContentType: "application/x-www-form-urlencoded")
        }
        #expect(notMultipart?.status.code == 415)
        for bad in ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
                    "multipart/form-data; boundary=\(String(repeating: "x", count: 71))",
                    "multipart/form-data; boundary=\"ends with space \"",
                    "multipart/form-data; boundary=\"a\r\nb\""] {
            let error = #expect(throws: MultipartError.self) { try MultipartParser.boundary(fromContentType: bad) }
            #expect(error?.status.code == 400, "\(bad)")
            #expect(error?.kind == .invalidBoundary)
            #expect(error?.message.isEmpty == false)
        }
    }

    @Test func filenameVariants() throws {
        let text = """
        --B\r
        Content-Disposition: form-data; name="a"; filename="plain.txt"; filename*=UTF-8''%E6%8A%A5%E8%A1%A8.csv\r
        \r
        1\r
        --B\r
        Content-Disposition: form-data; name="b"; filename*=utf-8''%E5%90%8D%E5%8D%95.csv\r
        \r
        2\r
        --B\r
        Content-Disposition: form-data; name="c"; filename="../../etc/passwd"\r
        \r
        3\r
        --B\r
        Content-Disposition: form-data; name="d"; filename="say \\"hi\\".txt"\r
        \r
        4\r
        --B\r
        Content-Disposition: form-data; name="none"; filename=""\r
        Content-Type: application/octet-stream\r
        \r
        \r
        --B\r
        Content-Disposition: form-data; name="e"; filename=noquotes.bin\r
        \r
        5\r
        --B--\r

        """
        let dir = try TemporaryDirectory()
        let form = try MultipartParser.parse(body: .bytes(Array(text.utf8)), contentType: "multipart/form-data; boundary=B",
                                             directory: dir.path)
        #expect(form.files.map(\.filename) == ["报表.csv", "名单.csv", "passwd", "say \"hi\".txt", "noquotes.bin"])
        #expect(form.files.map(\.fieldName) == ["a", "b", "c", "d", "e"])
        #expect(form.files.map(\.contentType).allSatisfy { $0 == "application/octet-stream" })
        #expect(form.files(for: "none").isEmpty)  // no file chosen: nothing kept
        #expect(try dir.contents().count == 5)
        form.removeFiles()
        #expect(try dir.contents().isEmpty)
    }

    @Test func parsesABodySpooledToAFile() throws {
        let dir = try TemporaryDirectory()
        var body = BodyBuilder()
        body.field("dry_run", "1")
        let csv = Array("姓名,身份证号\r\n张三,110101199003077777\r\n".utf8) + Array(repeating: 0x2C, count: 200_000)
        body.file("file", "residents.csv", "text/csv", csv)
        body.close()
        let spooled = try dir.write("body.tmp", body.bytes)
        let uploads = dir.path + "/uploads"
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        let form = try MultipartParser.parse(body: .file(path: spooled, length: body.bytes.count),
                                             contentType: body.contentType, directory: uploads)
        #expect(form.fields["dry_run"] == "1")
        let file = try #require(form.file("file"))
        #expect(file.filename == "residents.csv")
        #expect(file.contentType == "text/csv")
        #expect(file.contents() == csv)
        form.removeFiles()
        #expect(try FileManager.default.contentsOfDirectory(atPath: uploads).isEmpty)

        let missing = #expect(throws: MultipartError.self) {
            try MultipartParser.parse(body: .file(path: dir.path + "/nope", length: 10), contentType: body.contentType)
        }
        #expect(missing?.status.code == 500)
    }

    @Test func unwritableDirectoryIs500() throws {
        var body = BodyBuilder()
        body.file("f", "x.bin", "application/octet-stream", [1])
        body.close()
        let error = #expect(throws: MultipartError.self) {
            try MultipartParser.parse(body: .bytes(body.bytes), contentType: body.contentType,
                                      directory: "/nonexistent-jinlin-dir")
        }
        #expect(error?.kind == .storage)
        #expect(error?.status.code == 500)
    }

    @Test func findLocatesNeedles() {
        let hay = Array("ab\r\n--x\r\n--bound".utf8)
        #expect(MultipartParser.find(Array("\r\n--bound".utf8), in: hay, from: 0) == 7)
        #expect(MultipartParser.find(Array("\r\n--".utf8), in: hay, from: 3) == 7)
        #expect(MultipartParser.find(Array("\r\n--boundary".utf8), in: hay, from: 0) == nil)
        #expect(MultipartParser.find(Array("b".utf8), in: hay, from: 100) == nil)
    }
}
