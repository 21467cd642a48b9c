import Foundation

/// Uploaded photos: the type decided by magic bytes (never by the file name or the browser's
/// Content-Type), and every metadata block dropped before the bytes are stored — phone photos
/// carry the place they were taken (EXIF GPS), the device and the time.
///
/// - JPEG: APP1–APP15 segments (EXIF, XMP, IPTC, MPF, …) and comments (COM) are dropped; APP0
///   (JFIF), APP2 holding an ICC colour profile and APP14 (Adobe colour transform) are kept,
///   as decoders need them to show the right colours. Entropy-coded data is copied as is.
/// - PNG: the eXIf, tEXt, iTXt, zTXt and tIME chunks are dropped; every other chunk is kept.
/// - WebP: the EXIF and XMP chunks are dropped and their flags cleared in the VP8X header; the
///   RIFF size is rewritten.
/// A file whose structure does not parse is refused rather than stored half-understood.
public enum PhotoSanitizer {
    public enum Kind: String, Sendable {
        case jpeg = "image/jpeg", png = "image/png", webp = "image/webp"
    }

    public enum Problem: Error, Equatable {
        case unsupported
        case malformed
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func kind(of bytes: [UInt8]) -> Kind? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, Array(bytes[0..<8]) == pngSignature { return .png }
        if bytes.count >= 12, Array(bytes[0..<4]) == Array("RIFF".utf8), Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
        return nil
    }

    /// The photo without metadata, and its type.
    public static func sanitize(_ bytes: [UInt8]) throws(Problem) -> (bytes: [UInt8], kind: Kind) {
        guard let kind = kind(of: bytes) else { throw .unsupported }
        switch kind {
        case .jpeg: return (try jpeg(bytes), kind)
        case .png: return (try png(bytes), kind)
        case .webp: return (try webp(bytes), kind)
        }
    }

    // MARK: - JPEG

    static func jpeg(_ input: [UInt8]) throws(Problem) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        out.reserveCapacity(input.count)
        var pos = 2
        while pos < input.count {
            guard input[pos] == 0xFF else { throw .malformed }
            // Fill bytes before a marker.
            var markerPos = pos + 1
            while markerPos < input.count, input[markerPos] == 0xFF { markerPos += 1 }
            guard markerPos < input.count else { throw .malformed }
            let marker = input[markerPos]
            pos = markerPos + 1
            if marker == 0xD9 {  // EOI: the end; anything after it (trailers) is dropped.
                out += [0xFF, 0xD9]
                return out
            }
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {  // standalone markers
                out += [0xFF, marker]
                continue
            }
            guard pos + 2 <= input.count else { throw .malformed }
            let length = Int(input[pos]) << 8 | Int(input[pos + 1])
            guard length >= 2, pos + length <= input.count else { throw .malformed }
            let segment = input[pos..<(pos + length)]
            let payload = input[(pos + 2)..<(pos + length)]
            pos += length
            if keepSegment(marker, payload) {
                out += [0xFF, marker]
                out += segment
            }
            if marker == 0xDA {
                // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
                let start = pos
                while pos < input.count {
                    if input[pos] == 0xFF, pos + 1 < input.count {
                        let next = input[pos + 1]
                        if next != 0x00, next != 0xFF, !(0xD0...0xD7).contains(next) { break }
                    }
                    pos += 1
                }
                out += input[start..<pos]
                if pos >= input.count { return out }  // no EOI: keep what there is
            }
        }
        return out
    }

    static func keepSegment(_ marker: UInt8, _ payload: ArraySlice<UInt8>) -> Bool {
        switch marker {
        case 0xFE: return false  // COM
        case 0xE0, 0xEE: return true  // APP0 JFIF, APP14 Adobe
        case 0xE2: return payload.starts(with: Array("ICC_PROFILE\0".utf8))
        case 0xE1...0xEF: return false  // EXIF, XMP, IPTC, MPF and the rest
        default: return true
        }
    }

    // MARK: - PNG

    static let pngDropped: Set<String> = ["eXIf", "tEXt", "iTXt", "zTXt", "tIME"]

    static func png(_ input: [UInt8]) throws(Problem) -> [UInt8] {
        var out = pngSignature
        out.reserveCapacity(input.count)
        var pos = 8
        while pos < input.count {
            guard pos + 12 <= input.count else { throw .malformed }
            let length = Int(input[pos]) << 24 | Int(input[pos + 1]) << 16 | Int(input[pos + 2]) << 8 | Int(input[pos + 3])
            guard length <= input.count, pos + 12 + length <= input.count else { throw .malformed }
            let type = String(decoding: input[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let end = pos + 12 + length
            if !pngDropped.contains(type) { out += input[pos..<end] }
            pos = end
            if type == "IEND" { return out }
        }
        throw .malformed
    }

    // MARK: - WebP

    static func webp(_ input: [UInt8]) throws(Problem) -> [UInt8] {
        var out: [UInt8] = Array(input[0..<12])
        var pos = 12
        let riffEnd = min(input.count, 8 + Int(littleEndian32(input, 4)))
        var vp8xOffset: Int?
        var dropped = false
        while pos < riffEnd {
            guard pos + 8 <= riffEnd else { throw .malformed }
            let fourCC = String(decoding: input[pos..<(pos + 4)], as: UTF8.self)
            let size = Int(littleEndian32(input, pos + 4))
            let padded = size + (size & 1)
            guard size <= input.count, pos + 8 + size <= riffEnd else { throw .malformed }
            let end = min(riffEnd, pos + 8 + padded)
            if fourCC == "EXIF" || fourCC == "XMP " {
                dropped = true
            } else {
                if fourCC == "VP8X" { vp8xOffset = out.count + 8 }
                out += input[pos..<end]
            }
            pos = end
        }
        if dropped || vp8xOffset != nil, let flags = vp8xOffset, flags < out.count {
            out[flags] &= ~UInt8(0x08 | 0x04)  // EXIF and XMP present flags
        }
        let riffSize = UInt32(out.count - 8)
        out[4] = UInt8(riffSize & 0xFF)
        out[5] = UInt8((riffSize >> 8) & 0xFF)
        out[6] = UInt8((riffSize >> 16) & 0xFF)
        out[7] = UInt8((riffSize >> 24) & 0xFF)
        return out
    }

    static func littleEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
