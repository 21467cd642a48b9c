import CZlib

/// gzip (RFC 1952) through the system zlib.
public enum Gzip {
    /// Compresses `input` into a gzip member; nil if zlib fails (the caller then sends it plain).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        // deflateInit2 is a macro Swift cannot import; windowBits 15 + 16 selects the gzip wrapper.
        let initResult = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initResult == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Decompresses a gzip member; used by tests and by clients of the server's own output.
    public static func decompress(_ input: [UInt8], maxOutput: Int = 64 << 20) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var input = input
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let ok: Bool = input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                result.append(contentsOf: chunk[0..<produced])
                if result.count > maxOutput { return false }
                if status == Z_STREAM_END { return true }
                if status != Z_OK { return false }
                if produced == 0 && stream.avail_in == 0 { return false }
            }
        }
        return ok ? result : nil
    }

    /// Whether a response of this Content-Type is worth compressing.
    public static func isCompressible(contentType: String) -> Bool {
        // Asked for every response with a body of 1 KiB or more: compare prefixes in place
        // rather than lowercasing the whole value into a new string first.
        var type = contentType
        return type.withUTF8 { t in
            compressiblePrefixes.contains { prefix in
                guard t.count >= prefix.count else { return false }
                for i in 0..<prefix.count {
                    var b = t[i]
                    if b >= 65 && b <= 90 { b |= 0x20 }
                    if b != prefix[i] { return false }
                }
                return true
            }
        }
    }

    private static let compressiblePrefixes: [[UInt8]] = [
        "text/", "application/json", "application/javascript", "image/svg+xml", "application/xml",
    ].map { Array($0.utf8) }

    /// Whether the client accepts gzip (RFC 9110 §12.5.3), honouring an explicit q=0.
    public static func isAccepted(by headers: HTTPHeaders) -> Bool {
        for value in headers.values("accept-encoding") {
            for element in value.split(separator: ",") {
                let parts = element.split(separator: ";")
                guard let coding = parts.first?.trimmingOWS().lowercasedASCII(),
                      coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
                let refused = parts.dropFirst().contains { param in
                    let p = param.trimmingOWS().lowercasedASCII()
                    return p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
                }
                return !refused
            }
        }
        return false
    }
}
