import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Security
import Storage

/// Photos on disk: `<data directory>/photos/<sha256 of the stripped bytes>`. Content-addressed,
/// so a file never changes once written, and `jinlin backup` copies the folder beside the
/// database copy (`Backup.copyPhotos`).
enum PhotoFiles {
    static let maxBytes = 5 << 20

    static func directory(_ database: AppDatabase) -> URL {
        PhotoFolder.url(besideDatabase: database.path)
    }

    /// Strips the metadata and stores the photo; a refusal a user can cause is an `HTTPError`-ready message.
    static func store(_ bytes: [UInt8], database: AppDatabase) throws(PhotoSanitizer.Problem) -> StoredPhoto {
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

    static func read(_ hash: String, database: AppDatabase) -> [UInt8]? {
        guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit }) else { return nil }
        return (try? Data(contentsOf: directory(database).appendingPathComponent(hash))).map { Array($0) }
    }
}
