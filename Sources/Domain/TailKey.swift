/// Tail searches (the last digits of a phone or an ID number) run on an index of the value
/// written backwards, where the tail is a prefix.
public enum TailKey {
    /// `text` backwards. ID numbers and phones are ASCII, reversed byte by byte; anything else
    /// character by character.
    public static func of(_ text: String) -> String {
        var bytes = Array(text.utf8)
        guard !bytes.contains(where: { $0 >= 0x80 }) else { return String(text.reversed()) }
        bytes.reverse()
        return String(decoding: bytes, as: UTF8.self)
    }
}
