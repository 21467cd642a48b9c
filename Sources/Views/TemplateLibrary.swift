import Foundation
import Mustache

/// Why loading or rendering templates failed. Every case names the file or template involved.
public enum TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The templates directory does not exist or is not a directory.
    case directoryNotFound(path: String)
    /// A template file could not be read.
    case unreadable(file: String, reason: String)
    /// A template file is not valid UTF-8.
    case notUTF8(file: String)
    /// A template file does not parse as Mustache.
    case parse(file: String, line: Int, column: Int, lineText: String, reason: String)
    /// A template refers to a partial or parent (`{{>name}}`, `{{<name}}`) that does not exist.
    case missingPartial(file: String, partial: String)
    /// A template that the application requires is not in the directory.
    case missingTemplate(name: String, directory: String)
    /// `render` was asked for a template name that was not loaded.
    case unknownTemplate(name: String)

    public var description: String {
        switch self {
        case .directoryNotFound(let path):
            return "templates directory not found: \(path)"
        case .unreadable(let file, let reason):
            return "cannot read template \(file): \(reason)"
        case .notUTF8(let file):
            return "template \(file) is not valid UTF-8"
        case .parse(let file, let line, let column, let lineText, let reason):
            return "template \(file):\(line):\(column): \(reason) — near: \(lineText.trimmingCharacters(in: .whitespaces))"
        case .missingPartial(let file, let partial):
            return "template \(file) refers to missing template '\(partial)'"
        case .missingTemplate(let name, let directory):
            return "required template '\(name)' (\(name).mustache) is missing in \(directory)"
        case .unknownTemplate(let name):
            return "unknown template '\(name)'"
        }
    }
}

/// All Mustache templates of a directory, loaded and checked once at start.
///
/// Every `*.mustache` file under the directory (recursively) is registered under its relative
/// path without the extension: `layout`, `errors/error`, `partials/flash`. Loading is
/// synchronous and fails with a `TemplateError` naming the file when a template does not parse
/// or refers to a partial/parent that does not exist, or when a `required` name is missing.
///
/// Contexts should be `[String: Any]` dictionaries (or `MustacheParent` conformances): plain
/// structs are read through reflection, about 3× slower. `{{x}}` escapes `< > & " '`; never use
/// `{{{x}}}` / `{{&x}}` for user data.
///
/// Immutable after init, so it is safe to share across threads.
public final class TemplateLibrary: Sendable {
    /// The directory the templates were loaded from.
    public let directory: String
    /// The names of all loaded templates, sorted.
    public let names: [String]

    private let library: MustacheLibrary
    private let nameSet: Set<String>

    /// Loads every `*.mustache` file under `directory`.
    /// - Parameters:
    ///   - directory: the templates directory (e.g. `<root>/Templates`).
    ///   - required: template names that must exist (e.g. `["layout", "errors/error"]`).
    public init(directory: String, required: [String] = []) throws {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateError.directoryNotFound(path: directory)
        }

        let files = try Self.templateFiles(under: root)
        var library = MustacheLibrary()
        var sources: [(name: String, file: String, text: String)] = []
        for (name, url) in files {
            let file = url.path
            let data: Data
            do {
                data = try Data(contentsOf: url)
            } catch {
                throw TemplateError.unreadable(file: file, reason: String(describing: error))
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw TemplateError.notUTF8(file: file)
            }
            do {
                library.register(try MustacheTemplate(string: text), named: name)
            } catch let error as MustacheTemplate.ParserError {
                throw TemplateError.parse(
                    file: file, line: error.context.lineNumber, column: error.context.columnNumber,
                    lineText: error.context.line, reason: Self.describe(error.error))
            } catch {
                throw TemplateError.parse(file: file, line: 0, column: 0, lineText: "", reason: String(describing: error))
            }
            sources.append((name, file, text))
        }

        let names = Set(files.map(\.name))
        // swift-mustache renders a missing partial as nothing; catch such typos at start instead.
        for source in sources {
            for partial in Self.referencedTemplates(in: source.text) where !names.contains(partial) {
                throw TemplateError.missingPartial(file: source.file, partial: partial)
            }
        }
        for name in required where !names.contains(name) {
            throw TemplateError.missingTemplate(name: name, directory: directory)
        }

        self.directory = directory
        self.library = library
        self.nameSet = names
        self.names = names.sorted()
    }

    /// True when a template of that name was loaded.
    public func contains(_ template: String) -> Bool {
        nameSet.contains(template)
    }

    /// Renders `template` with `context` (normally a `[String: Any]`).
    public func render(_ context: Any, template: String) throws -> String {
        guard nameSet.contains(template), let rendered = library.render(context, withTemplate: template) else {
            throw TemplateError.unknownTemplate(name: template)
        }
        return rendered
    }

    /// Renders `template` with `context` as UTF-8 bytes (for a response body).
    public func renderBytes(_ context: Any, template: String) throws -> [UInt8] {
        Array(try render(context, template: template).utf8)
    }

    // MARK: - Loading helpers

    /// `(name, url)` of every `*.mustache` regular file under `root`, sorted by name.
    /// Hidden files and directories are skipped.
    private static func templateFiles(under root: URL) throws -> [(name: String, url: URL)] {
        let keys: [URLResourceKey] = [.isRegularFileKey]
        guard let enumerator = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
        else {
            throw TemplateError.directoryNotFound(path: root.path)
        }
        let rootComponents = root.resolvingSymlinksInPath().pathComponents
        var result: [(name: String, url: URL)] = []
        for case let url as URL in enumerator where url.pathExtension == "mustache" {
            let values = try? url.resourceValues(forKeys: Set(keys))
            guard values?.isRegularFile == true else { continue }
            let components = url.resolvingSymlinksInPath().pathComponents
            guard components.count > rootComponents.count,
                  Array(components.prefix(rootComponents.count)) == rootComponents else { continue }
            var relative = components.dropFirst(rootComponents.count).joined(separator: "/")
            relative.removeLast(".mustache".count)
            guard !relative.isEmpty else { continue }
            result.append((relative, url))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// Names used in `{{>name}}` and `{{<name}}` tags (default delimiters; dynamic `*name`
    /// partials are skipped because their target is only known at render time).
    static func referencedTemplates(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let kind = rest.first, kind == ">" || kind == "<" else { continue }
            guard let close = rest.range(of: "}}") else { break }
            let name = rest[rest.index(after: rest.startIndex)..<close.lowerBound]
                .trimmingCharacters(in: .whitespacesAndNewlines)
            rest = rest[close.upperBound...]
            if !name.isEmpty, !name.hasPrefix("*") { names.append(name) }
        }
        return names
    }

    private static func describe(_ error: Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return String(describing: error) }
        switch error {
        case .sectionCloseNameIncorrect: return "closing tag does not match the open section"
        case .unfinishedName: return "unfinished tag"
        case .expectedSectionEnd: return "section is never closed"
        case .invalidSetDelimiter: return "invalid set-delimiter tag"
        case .transformAppliedToInheritanceSection: return "transform applied to an inheritance block"
        case .illegalTokenInsideInheritSection: return "only {{$block}} definitions may appear inside {{<parent}}"
        case .textInsideInheritSection: return "text inside {{<parent}}"
        case .invalidConfigVariableSyntax: return "invalid {{% config }} tag"
        case .unrecognisedConfigVariable: return "unrecognised {{% config }} variable"
        }
    }
}
