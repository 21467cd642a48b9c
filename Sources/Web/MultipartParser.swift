#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HTTPCore

/// A streaming `multipart/form-data` decoder (RFC 7578 on the RFC 2046 §5.1.1 framing).
///
/// Feed the body in pieces of any size; the result does not depend on where it was split,
/// a delimiter cut across two feeds included. Text fields are collected in memory up to
/// `maxFieldBytes`; file parts (those with a `filename`) go to temporary files as they arrive,
/// so memory stays bounded by the largest delimiter plus one feed, whatever the upload's size.
///
/// Any error leaves nothing behind: the temporary files written so far are deleted before
/// `feed` or `finish` throws. A parser abandoned without an error must be `discard()`ed.
/// While a file part streams the parser holds its open descriptor, so feed one copy of a
/// parser only, never two.
public struct MultipartParser: Sendable {
    public let boundary: String
    public let limits: MultipartLimits
    /// Where file parts are spooled.
    public let directory: String

    private enum State: Sendable {
        case preamble
        /// Just after a delimiter: "--" closes the body, else transport padding and CRLF.
        case afterDelimiter
        case headers
        case body
        case epilogue
        case finished
        case failed(MultipartError)
    }

    private struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String
        /// The open temporary file of a file part; -1 for a text field.
        var fd: Int32
        var path: String
        var size: Int = 0
        var fieldBytes: [UInt8] = []
    }

    /// CRLF "--" boundary: every delimiter, the first one included, since the buffer starts
    /// with a CRLF of its own (RFC 2046 §5.1.1 lets the first delimiter open the body).
    private let delimiter: [UInt8]
    private var state: State = .preamble
    private var buffer: [UInt8] = [13, 10]
    private var totalBytes = 0
    private var partCount = 0
    private var part: Part?
    private var fields = FormData()
    private var files: [UploadedFile] = []

    /// `$TMPDIR`, else "/tmp".
    public static var defaultTemporaryDirectory: String { FileSystem.temporaryDirectory }

    /// A parser for a body sent with this Content-Type field value.
    public init(contentType: String, limits: MultipartLimits = MultipartLimits(),
                directory: String = MultipartParser.defaultTemporaryDirectory) throws(MultipartError) {
        try self.init(boundary: MultipartParser.boundary(fromContentType: contentType),
                      limits: limits, directory: directory)
    }

    public init(boundary: String, limits: MultipartLimits = MultipartLimits(),
                directory: String = MultipartParser.defaultTemporaryDirectory) throws(MultipartError) {
        try MultipartParser.validate(boundary: boundary)
        self.boundary = boundary
        self.limits = limits
        self.directory = directory
        self.delimiter = [13, 10, UInt8(ascii: "-"), UInt8(ascii: "-")] + Array(boundary.utf8)
    }

    /// The boundary parameter of a `multipart/form-data` Content-Type, quoted or not.
    public static func boundary(fromContentType contentType: String) throws(MultipartError) -> String {
        let parsed = HeaderParameters(contentType)
        guard parsed.value == "multipart/form-data" else { throw .unsupportedMediaType(contentType) }
        guard let boundary = parsed["boundary"] else { throw .invalidBoundary("no boundary parameter") }
        try validate(boundary: boundary)
        return boundary
    }

    /// RFC 2046 §5.1.1: 1 to 70 characters, not ending in a space. Any printable ASCII is
    /// accepted (a little wider than bchars) since only CR, LF and length can break framing.
    private static func validate(boundary: String) throws(MultipartError) {
        let bytes = Array(boundary.utf8)
        guard (1...70).contains(bytes.count) else {
            throw .invalidBoundary("boundary length \(bytes.count) outside 1...70")
        }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), bytes.last != UInt8(ascii: " ") else {
            throw .invalidBoundary("boundary has characters outside RFC 2046 bchars")
        }
    }

    // MARK: - Feeding

    /// Consumes the next bytes of the body.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(MultipartError) {
        switch state {
        case .failed(let error): throw error
        case .finished: return
        default: break
        }
        totalBytes += bytes.count
        if totalBytes > limits.maxTotalBytes { throw fail(.totalTooLarge(limit: limits.maxTotalBytes)) }
        if case .epilogue = state { return }  // RFC 2046 §5.1.1: the epilogue is ignored
        buffer.append(contentsOf: bytes)
        do {
            try process()
        } catch {
            throw fail(error)
        }
    }

    /// Ends the body and hands over the form; the caller now owns its temporary files.
    public mutating func finish() throws(MultipartError) -> MultipartForm {
        switch state {
        case .failed(let error):
            throw error
        case .epilogue, .finished:
            state = .finished
            return MultipartForm(fields: fields, files: files)
        default:
            throw fail(.incomplete())
        }
    }

    /// Deletes every temporary file written so far, for a caller that gives up on the body
    /// before `finish()`. Does nothing after `finish()` returned: the form owns the files then.
    public mutating func discard() {
        if case .finished = state { return }
        if case .failed = state { return }
        _ = fail(.incomplete())
    }

    /// Decodes a whole request body: from memory, or from the file the server spooled it to,
    /// 64 KiB at a time.
    public static func parse(body: HTTPBody, contentType: String, limits: MultipartLimits = MultipartLimits(),
                             directory: String = MultipartParser.defaultTemporaryDirectory) throws(MultipartError) -> MultipartForm {
        var parser = try MultipartParser(contentType: contentType, limits: limits, directory: directory)
        let chunkSize = 64 * 1024
        switch body {
        case .empty:
            break
        case .bytes(let bytes):
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + chunkSize)
                try parser.feed(bytes[start..<end])
                start = end
            }
        case .file(let path, let length):
            guard let fd = FileSystem.openForReading(path) else {
                throw .storage("cannot open spooled body \(path): errno \(errno)")
            }
            defer { FileSystem.closeFile(fd) }
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            var remaining = length
            while remaining > 0 {
                let want = min(chunkSize, remaining)
                let got = chunk.withUnsafeMutableBytes { raw in
                    FileSystem.readSome(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]))
                }
                guard let got else {
                    parser.discard()
                    throw .storage("cannot read spooled body \(path): errno \(errno)")
                }
                if got == 0 { break }
                try parser.feed(chunk[0..<got])
                remaining -= got
            }
        }
        return try parser.finish()
    }

    // MARK: - The state machine

    private mutating func process() throws(MultipartError) {
        var pos = 0
        scan: while true {
            switch state {
            case .preamble:
                if let found = MultipartParser.find(delimiter, in: buffer, from: pos) {
                    pos = found + delimiter.count
                    state = .afterDelimiter
                } else {
                    pos = max(pos, buffer.count - (delimiter.count - 1))
                    break scan
                }

            case .afterDelimiter:
                guard buffer.count - pos >= 2 else { break scan }
                if buffer[pos] == UInt8(ascii: "-") && buffer[pos + 1] == UInt8(ascii: "-") {
                    state = .epilogue
                    pos = buffer.count
                    break scan
                }
                // transport-padding := *LWSP-char, then CRLF.
                var end = pos
                while end < buffer.count, buffer[end] == UInt8(ascii: " ") || buffer[end] == UInt8(ascii: "\t") {
                    end += 1
                }
                if end - pos > 256 { throw .malformed("transport padding after a delimiter is too long") }
                guard end + 1 < buffer.count else {
                    if end < buffer.count, buffer[end] != 13 { throw .malformed("text after a delimiter") }
                    break scan
                }
                guard buffer[end] == 13, buffer[end + 1] == 10 else { throw .malformed("text after a delimiter") }
                pos = end + 2
                partCount += 1
                if partCount > limits.maxParts { throw .tooManyParts(limit: limits.maxParts) }
                state = .headers

            case .headers:
                guard buffer.count - pos >= 2 else { break scan }
                let headerEnd: Int
                if buffer[pos] == 13 && buffer[pos + 1] == 10 {
                    headerEnd = pos  // an empty header section
                } else if let found = MultipartParser.find([13, 10, 13, 10], in: buffer, from: pos) {
                    headerEnd = found + 2
                } else {
                    if buffer.count - pos > limits.maxPartHeaderBytes {
                        throw .malformed("part header section larger than \(limits.maxPartHeaderBytes) bytes")
                    }
                    break scan
                }
                if headerEnd - pos > limits.maxPartHeaderBytes {
                    throw .malformed("part header section larger than \(limits.maxPartHeaderBytes) bytes")
                }
                try startPart(headers: buffer[pos..<headerEnd])
                pos = headerEnd + 2
                state = .body

            case .body:
                if let found = MultipartParser.find(delimiter, in: buffer, from: pos) {
                    try emit(pos..<found)
                    pos = found + delimiter.count
                    try endPart()
                    state = .afterDelimiter
                } else {
                    // Keep back a tail that may be the start of a delimiter cut by the feed:
                    // it can only begin at a CR among the last delimiter.count - 1 bytes.
                    let tailStart = max(pos, buffer.count - (delimiter.count - 1))
                    let safeEnd = buffer[tailStart...].firstIndex(of: 13) ?? buffer.count
                    try emit(pos..<safeEnd)
                    pos = safeEnd
                    break scan
                }

            case .epilogue:
                pos = buffer.count
                break scan

            case .finished, .failed:
                break scan
            }
        }
        if pos > 0 { buffer.removeSubrange(0..<pos) }
    }

    /// Parses a part's header section (RFC 7578 §4.2, §4.4) and opens its destination.
    private mutating func startPart(headers: ArraySlice<UInt8>) throws(MultipartError) {
        var disposition: String?
        var contentType: String?
        // Field lines end in CRLF; a line without a colon (or an obs-fold) is ignored.
        let text = String(decoding: headers, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[line.startIndex..<colon].trimmingOWS().lowercasedASCII()
            let value = line[line.index(after: colon)...].trimmingOWS()
            if name == "content-disposition", disposition == nil { disposition = value }
            if name == "content-type", contentType == nil { contentType = value }
        }
        guard let disposition else { throw .malformed("part without Content-Disposition") }
        let parsed = HeaderParameters(disposition)
        guard parsed.value == "form-data" else { throw .malformed("Content-Disposition is not form-data") }
        guard let name = parsed["name"] else { throw .malformed("Content-Disposition without a name") }

        // RFC 7578 §4.2: filename* (RFC 5987) is tolerated; it is more precise when present.
        let filename = parsed["filename*"].flatMap(MultipartParser.decodeExtendedValue) ?? parsed["filename"]
        if let filename {
            guard let temp = FileSystem.makeTemporaryFile(in: directory, prefix: "jinlin-upload-") else {
                throw .storage("cannot create a temporary file in \(directory): errno \(errno)")
            }
            part = Part(name: name, filename: MultipartParser.baseName(filename),
                        contentType: contentType ?? "application/octet-stream", fd: temp.fd, path: temp.path)
        } else {
            part = Part(name: name, filename: nil, contentType: contentType ?? "text/plain", fd: -1, path: "")
        }
    }

    private mutating func emit(_ range: Range<Int>) throws(MultipartError) {
        guard !range.isEmpty, let fd = part?.fd, let size = part?.size else { return }
        let count = range.count
        if fd >= 0 {
            guard size + count <= limits.maxPartBytes else {
                throw .fileTooLarge(limit: limits.maxPartBytes, filename: part?.filename ?? "")
            }
            let written = buffer.withUnsafeBytes { raw in
                FileSystem.writeAll(fd: fd, UnsafeRawBufferPointer(rebasing: raw[range]))
            }
            guard written else { throw .storage("cannot write an uploaded file: errno \(errno)") }
        } else {
            guard size + count <= limits.maxFieldBytes else {
                throw .fieldTooLarge(limit: limits.maxFieldBytes, name: part?.name ?? "")
            }
            part?.fieldBytes.append(contentsOf: buffer[range])
        }
        part?.size = size + count
    }

    private mutating func endPart() throws(MultipartError) {
        guard let current = part else { return }
        part = nil
        if current.fd >= 0 {
            FileSystem.closeFile(current.fd)
            let filename = current.filename ?? ""
            if filename.isEmpty && current.size == 0 {
                // An `<input type=file>` left empty sends filename="" and no content (HTML
                // §4.10.21.8): no file was chosen, so there is nothing to hand over.
                FileSystem.removeFile(current.path)
            } else {
                files.append(UploadedFile(fieldName: current.name, filename: filename,
                                          contentType: current.contentType, path: current.path, size: current.size))
            }
        } else {
            guard let text = String(validating: current.fieldBytes, as: UTF8.self) else {
                throw .invalidText(name: current.name)
            }
            fields.append(current.name, text)
        }
    }

    /// Deletes every temporary file and remembers the error for later calls.
    private mutating func fail(_ error: MultipartError) -> MultipartError {
        if let current = part, current.fd >= 0 {
            FileSystem.closeFile(current.fd)
            FileSystem.removeFile(current.path)
        }
        part = nil
        for file in files { file.remove() }
        files = []
        fields = FormData()
        buffer = []
        state = .failed(error)
        return error
    }

    // MARK: - Helpers

    /// The first occurrence of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        let n = needle.count
        guard n > 0, start >= 0, haystack.count - start >= n else { return nil }
        return haystack.withUnsafeBufferPointer { hay -> Int? in
            needle.withUnsafeBufferPointer { pin -> Int? in
                guard let h = hay.baseAddress, let p = pin.baseAddress else { return nil }
                let first = Int32(p[0])
                let last = hay.count - n
                var i = start
                while i <= last {
                    guard let hit = memchr(h + i, first, last - i + 1) else { return nil }
                    let index = UnsafeRawPointer(h).distance(to: UnsafeRawPointer(hit))
                    if memcmp(h + index, p, n) == 0 { return index }
                    i = index + 1
                }
                return nil
            }
        }
    }

    /// The last path component: RFC 7578 §4.2 says a directory part must not be used, and old
    /// browsers sent "C:\\Users\\…\\photo.jpg".
    static func baseName(_ filename: String) -> String {
        guard let cut = filename.lastIndex(where: { $0 == "/" || $0 == "\\" }) else { return filename }
        return String(filename[filename.index(after: cut)...])
    }

    /// An RFC 8187 ext-value such as `UTF-8''%E7%85%A7%E7%89%87.jpg`; nil when malformed.
    static func decodeExtendedValue(_ value: String) -> String? {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        let charset = pieces[0].lowercasedASCII()
        if charset == "utf-8" {
            return FormData.percentDecode(pieces[2], plusAsSpace: false)
        }
        if charset == "iso-8859-1" {
            let bytes = FormData.decodeBytes(Array(pieces[2].utf8), plusAsSpace: false)
            return String(bytes.map { Character(Unicode.Scalar($0)) })
        }
        return nil
    }
}
