import Foundation
import Mustache
import Views

/// swift-mustache as the reference for the application's own renderer: a `RenderCheck` that
/// renders every page again with swift-mustache 2.1.1 and fails the render when the bytes differ.
public enum MustacheReference {
    public struct Mismatch: Error, CustomStringConvertible {
        public let template: String
        public let offset: Int
        public let expected: String
        public let actual: String

        public var description: String {
            "template \(template) differs from swift-mustache at byte \(offset):\n  swift-mustache: \(expected.debugDescription)\n  ours:           \(actual.debugDescription)"
        }
    }

    /// Loads the same files `TemplateLibrary` loads, under the same names, into a swift-mustache library.
    public static func library(directory: String) throws -> MustacheLibrary {
        var library = MustacheLibrary()
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        for (name, url) in try TemplateLibrary.templateFiles(under: root) {
            library.register(try MustacheTemplate(string: String(contentsOf: url, encoding: .utf8)), named: name)
        }
        return library
    }

    /// The check to pass to `TemplateLibrary(directory:check:)`.
    public static func check(directory: String) throws -> TemplateLibrary.RenderCheck {
        let library = try library(directory: directory)
        return { template, context, rendered in
            let expected = Array((library.render(context, withTemplate: template) ?? "").utf8)
            guard expected != rendered else { return }
            let offset = zip(expected, rendered).prefix { $0 == $1 }.count
            func excerpt(_ bytes: [UInt8]) -> String {
                String(decoding: bytes[max(0, offset - 40)..<min(bytes.count, offset + 60)], as: UTF8.self)
            }
            let mismatch = Mismatch(template: template, offset: offset, expected: excerpt(expected), actual: excerpt(rendered))
            FileHandle.standardError.write(Data("\(mismatch)\n".utf8))
            throw mismatch
        }
    }
}
