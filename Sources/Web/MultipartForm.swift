/// A decoded `multipart/form-data` body: text fields in order, and file parts on disk.
public struct MultipartForm: Sendable, Equatable {
    public var fields: FormData
    public var files: [UploadedFile]

    public init(fields: FormData = FormData(), files: [UploadedFile] = []) {
        self.fields = fields
        self.files = files
    }

    /// The first file sent under this field name.
    public func file(_ fieldName: String) -> UploadedFile? {
        files.first { $0.fieldName == fieldName }
    }

    /// Every file sent under this field name (`<input type=file multiple>`).
    public func files(for fieldName: String) -> [UploadedFile] {
        files.filter { $0.fieldName == fieldName }
    }

    /// Deletes every temporary file of this form.
    public func removeFiles() {
        for file in files { file.remove() }
    }
}
