import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import HTTPCore
import Security
import Storage
import Web

/// Photos on disk: `<data directory>/photos/<sha256 of the stripped bytes>`. Content-addressed,
/// so a file never changes once written, and `jinlin backup` copies the folder beside the
/// database copy (`Backup.copyPhotos`). Wishes (结单) and cases (report and resolve) use it.
public enum PhotoFiles {
    public static let maxBytes = 5 << 20

    public static func directory(_ database: AppDatabase) -> URL {
        PhotoFolder.url(besideDatabase: database.path)
    }

    /// Strips the metadata and stores the photo; a refusal a user can cause is an `HTTPError`-ready message.
    public static func store(_ bytes: [UInt8], database: AppDatabase) throws(PhotoSanitizer.Problem) -> StoredPhoto {
        let (clean, kind) = try PhotoSanitizer.sanitize(bytes)
        let hash = sha256Hex(clean)
        let folder = directory(database)
        let target = folder.appendingPathComponent(hash)
        if !FileManager.default.fileExists(atPath: target.path) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let partial = folder.appendingPathComponent(hash + ".partial-" + randomToken(bytes: 6))
                try Data(clean).write(to: partial)
                // rename(2) is atomic: readers see no file or the whole photo.
                guard rename(partial.path, target.path) == 0 else {
                    try? FileManager.default.removeItem(at: partial)
                    throw CocoaError(.fileWriteUnknown)
                }
            } catch {
                throw .malformed
            }
        }
        return StoredPhoto(hash: hash, mime: kind.rawValue, size: clean.count)
    }

    public static func read(_ hash: String, database: AppDatabase) -> [UInt8]? {
        guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit }) else { return nil }
        return (try? Data(contentsOf: directory(database).appendingPathComponent(hash))).map { Array($0) }
    }

    /// The uploaded photo (nil when none was chosen), stripped and stored; a refusal as a page
    /// with a Chinese message (413, 422).
    public static func upload(_ file: UploadedFile?, database: AppDatabase) throws -> StoredPhoto? {
        guard let file, file.size > 0 else { return nil }
        guard file.size <= maxBytes, let bytes = file.contents(limit: maxBytes) else {
            throw HTTPError(.contentTooLarge, "照片不能超过 5 MB，请压缩后重新上传。")
        }
        do {
            return try store(bytes, database: database)
        } catch .unsupported {
            throw HTTPError(.unprocessableContent, "只能上传 JPEG、PNG 或 WebP 格式的照片。")
        } catch {
            throw HTTPError(.unprocessableContent, "照片文件已损坏，无法读取，请换一张重新上传。")
        }
    }

    /// The response serving a stored photo.
    public static func response(_ hash: String, mime: String, database: AppDatabase) throws -> HTTPResponse {
        guard let bytes = read(hash, database: database) else { throw HTTPError(.notFound) }
        var response = HTTPResponse(status: .ok, contentType: mime, body: bytes)
        response.headers.add("Cache-Control", "private, max-age=3600")
        return response
    }

    /// Records a stored photo (`photos`), once per content, inside the caller's transaction.
    public static func record(_ db: Database, _ photo: StoredPhoto, wishID: Int64? = nil) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO photos (hash, mime, size, wish_id, created_at) VALUES (?, ?, ?, ?, \(Timestamp.nowSQL))
            """, arguments: [photo.hash, photo.mime, photo.size, wishID])
    }
}

/// A photo already stripped of its metadata and stored under the data directory.
public struct StoredPhoto: Sendable {
    public let hash: String
    public let mime: String
    public let size: Int

    public init(hash: String, mime: String, size: Int) {
        self.hash = hash
        self.mime = mime
        self.size = size
    }
}
