import HTTPCore

/// What `StaticFiles` knows about one file: its identity, validators, ready-made header sets
/// and, for small files, the bytes themselves (plain and gzip). Immutable, so a request can use
/// it after the cache lock is released; a changed file gets a new entry.
final class StaticFileEntry: Sendable {
    /// A precompressed `name.gz` next to the file (the nginx `gzip_static` convention).
    struct GzipSibling: Sendable, Equatable {
        var path: String
        var status: FileSystem.Status
    }

    /// The canonical path of the file.
    let path: String
    let status: FileSystem.Status
    let contentType: String
    /// Compressible type and large enough: responses vary with Accept-Encoding.
    let gzipEligible: Bool
    let sibling: GzipSibling?
    /// The file's bytes, when small enough to keep in memory.
    let body: [UInt8]?
    /// The gzip representation in memory (the sibling's bytes, or compressed once here).
    let gzipBody: [UInt8]?

    /// Strong validators (RFC 9110 §8.8.3) from mtime and size; the gzip representation has its
    /// own, since a strong ETag must differ between content codings (§8.8.1).
    let etag: String
    let gzipETag: String
    let lastModified: String

    let headers: HTTPHeaders
    let gzipHeaders: HTTPHeaders
    let notModifiedHeaders: HTTPHeaders
    let gzipNotModifiedHeaders: HTTPHeaders

    /// Whether a gzip representation can be sent.
    var hasGzip: Bool { gzipEligible && (gzipBody != nil || sibling != nil) }
    /// Bytes of memory this entry holds.
    var cost: Int { (body?.count ?? 0) + (gzipBody?.count ?? 0) }

    init(path: String, status: FileSystem.Status, contentType: String, gzipEligible: Bool,
         sibling: GzipSibling?, body: [UInt8]?, gzipBody: [UInt8]?, cacheControl: String) {
        self.path = path
        self.status = status
        self.contentType = contentType
        self.gzipEligible = gzipEligible
        self.sibling = sibling
        self.body = body
        self.gzipBody = gzipBody

        let tag = String(status.mtimeSeconds, radix: 16) + "." + String(status.mtimeNanoseconds, radix: 16)
            + "-" + String(status.size, radix: 16)
        etag = "\"" + tag + "\""
        gzipETag = "\"" + tag + "-gz\""
        lastModified = HTTPDate.format(epochSeconds: status.mtimeSeconds)

        var plain = HTTPHeaders()
        plain.add("Content-Type", contentType)
        plain.add("ETag", etag)
        plain.add("Last-Modified", lastModified)
        plain.add("Cache-Control", cacheControl)
        if gzipEligible { plain.add("Vary", "Accept-Encoding") }
        headers = plain

        var gzip = HTTPHeaders()
        gzip.add("Content-Type", contentType)
        gzip.add("Content-Encoding", "gzip")
        gzip.add("ETag", gzipETag)
        gzip.add("Last-Modified", lastModified)
        gzip.add("Cache-Control", cacheControl)
        gzip.add("Vary", "Accept-Encoding")
        gzipHeaders = gzip

        // RFC 9110 §15.4.5: a 304 carries the fields a 200 would have among Cache-Control,
        // Content-Location, Date, ETag, Expires and Vary, and no other representation metadata.
        var notModified = HTTPHeaders()
        notModified.add("ETag", etag)
        notModified.add("Cache-Control", cacheControl)
        if gzipEligible { notModified.add("Vary", "Accept-Encoding") }
        notModifiedHeaders = notModified

        var gzipNotModified = HTTPHeaders()
        gzipNotModified.add("ETag", gzipETag)
        gzipNotModified.add("Cache-Control", cacheControl)
        gzipNotModified.add("Vary", "Accept-Encoding")
        gzipNotModifiedHeaders = gzipNotModified
    }

    /// The same file without in-memory bytes, for when the cache budget is spent.
    func withoutBodies(cacheControl: String) -> StaticFileEntry {
        StaticFileEntry(path: path, status: status, contentType: contentType, gzipEligible: gzipEligible,
                        sibling: sibling, body: nil, gzipBody: nil, cacheControl: cacheControl)
    }
}
