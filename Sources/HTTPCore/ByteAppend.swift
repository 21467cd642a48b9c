extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy of its contiguous storage. The generic
    /// `append(contentsOf: s.utf8)` walks the view and cost several times as much; response heads
    /// and access-log lines append a score of strings per request.
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { append(contentsOf: $0) }
        if done == nil { append(contentsOf: text.utf8) }
    }
}
