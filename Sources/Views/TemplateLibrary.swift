import Foundation

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
/// Templates are parsed and rendered by `CompiledTemplate` / `TemplateRenderer`, which follow
/// swift-mustache's rules at a fraction of its cost; the test suites pass a `check` that renders
/// every page with swift-mustache as well and compares the bytes.
///
/// Contexts are `[String: Any]` dictionaries with `String`, `Int`, `Bool`, `[String]`,
/// `[String: Any]` and `[[String: Any]]` values (other types work, more slowly). `{{x}}`
/// escapes `< > & " '`; never use `{{{x}}}` / `{{&x}}` for user data.
///
/// Immutable after init, so it is safe to share across threads.
public final class TemplateLibrary: Sendable {
    /// Called after each render with the template's name, the context and the bytes rendered;
    /// an error it throws fails the render.
    public typealias RenderCheck = @Sendable (_ template: String, _ context: Any, _ rendered: [UInt8]) throws -> Void

    /// The directory the templates were loaded from.
    public let directory: String
    /// The names of all loaded templates, sorted.
    public let names: [String]

    private let renderer: TemplateRenderer
    private let check: RenderCheck?

    /// Loads every `*.mustache` file under `directory`.
    /// - Parameters:
    ///   - directory: the templates directory (e.g. `<root>/Templates`).
    ///   - required: template names that must exist (e.g. `["layout", "errors/error"]`).
    ///   - check: run after every render (tests compare with a reference renderer).
    public init(directory: String, required: [String] = [], check: RenderCheck? = nil) throws {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateError.directoryNotFound(path: directory)
        }

        let files = try Self.templateFiles(under: root)
        var templates: [String: CompiledTemplate] = [:]
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
                templates[name] = try TemplateParser.parse(text)
            } catch {
                let (line, column, lineText) = Self.location(of: error.offset, in: text)
                throw TemplateError.parse(file: file, line: line, column: column, lineText: lineText, reason: error.reason)
            }
        }

        let names = Set(files.map(\.name))
        // A missing partial would render as nothing; catch such typos at start instead.
        for (name, url) in files {
            for partial in templates[name]?.partialNames ?? [] where !names.contains(partial) {
                throw TemplateError.missingPartial(file: url.path, partial: partial)
            }
        }
        for name in required where !names.contains(name) {
            throw TemplateError.missingTemplate(name: name, directory: directory)
        }

        self.directory = directory
        self.renderer = TemplateRenderer(templates: templates)
        self.check = check
        self.names = names.sorted()
    }

    /// True when a template of that name was loaded.
    public func contains(_ template: String) -> Bool {
        renderer.templates[template] != nil
    }

    /// Renders `template` with `context` (normally a `[String: Any]`).
    public func render(_ context: Any, template: String) throws -> String {
        String(decoding: try renderBytes(context, template: template), as: UTF8.self)
    }

    /// Renders `template` with `context` as UTF-8 bytes (for a response body).
    public func renderBytes(_ context: Any, template: String) throws -> [UInt8] {
        guard let compiled = renderer.templates[template] else { throw TemplateError.unknownTemplate(name: template) }
        let bytes = renderer.render(compiled, object: context)
        try check?(template, context, bytes)
        return bytes
    }

    // MARK: - Loading helpers

    /// `(name, url)` of every `*.mustache` regular file under `root`, sorted by name.
    /// Hidden files and directories are skipped.
    /// `root` itself may be a symbolic link (a deployment's `Templates` pointing at a release).
    public static func templateFiles(under root: URL) throws -> [(name: String, url: URL)] {
        let keys: [URLResourceKey] = [.isRegularFileKey]
        let base = root.resolvingSymlinksInPath()
        guard let enumerator = FileManager.default.enumerator(
            at: base, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
        else {
            throw TemplateError.directoryNotFound(path: root.path)
        }
        let rootComponents = base.pathComponents
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

    /// 1-based line and column of a character offset, and that line's text.
    static func location(of offset: Int, in text: String) -> (line: Int, column: Int, text: String) {
        var line = 1
        var column = 1
        var lineStart = text.startIndex
        var index = text.startIndex
        var seen = 0
        while index < text.endIndex, seen < offset {
            if text[index].isNewline {
                line += 1
                column = 1
                lineStart = text.index(after: index)
            } else {
                column += 1
            }
            index = text.index(after: index)
            seen += 1
        }
        let lineEnd = text[lineStart...].firstIndex(where: \.isNewline) ?? text.endIndex
        return (line, column, String(text[lineStart..<lineEnd]))
    }
}
