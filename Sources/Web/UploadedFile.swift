/// A file part of a `multipart/form-data` body, spooled to a temporary file.
///
/// The file belongs to whoever holds the `MultipartForm`: move it away (rename) to keep it,
/// or call `remove()` / `MultipartForm.removeFiles()` when done.
public struct UploadedFile: Sendable, Equatable {
    /// The form field's `name`.
    public let fieldName: String
    /// The file name the browser sent, without any directory part (RFC 7578 §4.2).
    public let filename: String
    /// The part's Content-Type, "application/octet-stream" when absent (RFC 7578 §4.4).
    public let contentType: String
    /// Where the content is on disk.
    public let path: String
    /// The content's length in bytes.
    public let size: Int

    public init(fieldName: String, filename: String, contentType: String, path: String, size: Int) {
        self.fieldName = fieldName
        self.filename = filename
        self.contentType = contentType
        self.path = path
        self.size = size
    }

    /// The whole content, read from disk; nil if the file is gone or larger than `limit`.
    public func contents(limit: Int = 64 << 20) -> [UInt8]? {
        FileSystem.readFile(path, limit: limit)?.bytes
    }

    /// Deletes the temporary file.
    public func remove() {
        FileSystem.removeFile(path)
    }
}
