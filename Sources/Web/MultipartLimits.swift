/// Size and count limits for one `multipart/form-data` body.
///
/// Sizes count content bytes of a part (its headers and delimiters excluded), except
/// `maxTotalBytes`, which counts every byte of the body as it is fed.
public struct MultipartLimits: Sendable, Equatable {
    /// The largest file part (a part with a `filename`).
    public var maxPartBytes: Int
    /// The largest body, preamble and delimiters included.
    public var maxTotalBytes: Int
    /// The largest non-file field.
    public var maxFieldBytes: Int
    /// The most parts in one body.
    public var maxParts: Int
    /// The largest header section of one part.
    public var maxPartHeaderBytes: Int

    public init(maxPartBytes: Int = 10 << 20, maxTotalBytes: Int = 32 << 20, maxFieldBytes: Int = 64 << 10,
                maxParts: Int = 100, maxPartHeaderBytes: Int = 8 << 10) {
        self.maxPartBytes = maxPartBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxFieldBytes = maxFieldBytes
        self.maxParts = maxParts
        self.maxPartHeaderBytes = maxPartHeaderBytes
    }
}
