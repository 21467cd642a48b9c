import HTTPCore

/// Why a `multipart/form-data` body was refused: an HTTP status to answer with and a message
/// in Chinese that the page can show the user as it is.
public struct MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request's Content-Type is not `multipart/form-data` (415).
        case unsupportedMediaType
        /// The Content-Type has no usable boundary parameter (400).
        case invalidBoundary
        /// The body does not follow RFC 2046 §5.1.1 / RFC 7578 framing (400).
        case malformed
        /// The body ended before the close delimiter (400).
        case incomplete
        /// One file part is larger than `maxPartBytes` (413).
        case fileTooLarge
        /// One non-file field is larger than `maxFieldBytes` (413).
        case fieldTooLarge
        /// The whole body is larger than `maxTotalBytes` (413).
        case totalTooLarge
        /// More than `maxParts` parts (413).
        case tooManyParts
        /// A temporary file could not be written, or the spooled body could not be read (500).
        case storage
    }

    public let kind: Kind
    public let status: HTTPStatus
    /// A sentence for the user, in Simplified Chinese.
    public let message: String
    /// What went wrong, in English, for the log.
    public let detail: String

    public init(kind: Kind, status: HTTPStatus, message: String, detail: String) {
        self.kind = kind
        self.status = status
        self.message = message
        self.detail = detail
    }

    public var description: String { "\(status.code) \(detail)" }

    static func unsupportedMediaType(_ contentType: String) -> MultipartError {
        MultipartError(kind: .unsupportedMediaType, status: .unsupportedMediaType,
                       message: "提交的内容不是文件上传表单（multipart/form-data）",
                       detail: "Content-Type is not multipart/form-data: \(contentType.prefix(100))")
    }

    static func invalidBoundary(_ detail: String) -> MultipartError {
        MultipartError(kind: .invalidBoundary, status: .badRequest,
                       message: "上传的表单格式有误（缺少有效的分隔符），请重新提交",
                       detail: detail)
    }

    static func malformed(_ detail: String) -> MultipartError {
        MultipartError(kind: .malformed, status: .badRequest,
                       message: "上传的表单格式有误，请重新提交", detail: detail)
    }

    static func invalidText(name: String) -> MultipartError {
        MultipartError(kind: .malformed, status: .badRequest, message: FormData.invalidUTF8Message,
                       detail: "field \"\(name.prefix(100))\" is not valid UTF-8")
    }

    static func incomplete() -> MultipartError {
        MultipartError(kind: .incomplete, status: .badRequest,
                       message: "上传的内容不完整，请重新提交",
                       detail: "body ended before the close delimiter")
    }

    static func fileTooLarge(limit: Int, filename: String) -> MultipartError {
        MultipartError(kind: .fileTooLarge, status: .contentTooLarge,
                       message: "上传的文件过大（上限 \(sizeText(limit))）",
                       detail: "file part \"\(filename.prefix(100))\" exceeds \(limit) bytes")
    }

    static func fieldTooLarge(limit: Int, name: String) -> MultipartError {
        MultipartError(kind: .fieldTooLarge, status: .contentTooLarge,
                       message: "填写的内容过长（上限 \(sizeText(limit))）",
                       detail: "field \"\(name.prefix(100))\" exceeds \(limit) bytes")
    }

    static func totalTooLarge(limit: Int) -> MultipartError {
        MultipartError(kind: .totalTooLarge, status: .contentTooLarge,
                       message: "上传的内容过大（上限 \(sizeText(limit))）",
                       detail: "body exceeds \(limit) bytes")
    }

    static func tooManyParts(limit: Int) -> MultipartError {
        MultipartError(kind: .tooManyParts, status: .contentTooLarge,
                       message: "表单项过多（上限 \(limit) 项）",
                       detail: "more than \(limit) parts")
    }

    static func storage(_ detail: String) -> MultipartError {
        MultipartError(kind: .storage, status: .internalServerError,
                       message: "服务器暂时无法保存上传的文件，请稍后重试", detail: detail)
    }

    /// "10 MB", "1.5 MB", "64 KB", "100 字节" (binary multiples, as file managers show them).
    static func sizeText(_ bytes: Int) -> String {
        func scaled(_ unit: Int, _ name: String) -> String {
            if bytes % unit == 0 { return "\(bytes / unit) \(name)" }
            let tenths = (bytes * 10 + unit / 2) / unit
            return tenths % 10 == 0 ? "\(tenths / 10) \(name)" : "\(tenths / 10).\(tenths % 10) \(name)"
        }
        if bytes >= 1 << 20 { return scaled(1 << 20, "MB") }
        if bytes >= 1 << 10 { return scaled(1 << 10, "KB") }
        return "\(bytes) 字节"
    }
}
