/// A Mustache template parsed once into nodes that render straight into a byte buffer.
///
/// The parse follows swift-mustache 2.1.1 step by step (its `Template+Parser.swift`: the same
/// standalone-line rules, partial indentation and inheritance), so a template renders to the
/// same bytes with either; the test suites render every page with both and compare. It exists for
/// cost: a name is a dictionary look-up and the output one buffer, not a `String` per tag.
///
/// Supported: variables (`{{x}}`, `{{{x}}}`, `{{&x}}`, dotted names, `{{.}}`), sections and
/// inverted sections, comments, partials (`{{>name}}`) and inheritance (`{{<parent}}` with
/// `{{$block}}`). Not supported, refused when the template loads: set-delimiter tags, pragmas
/// (`{{%…}}`), transforms (`{{f(x)}}`) and dynamic partials (`{{>*x}}`); no template uses them.
struct CompiledTemplate: Sendable {
    enum Node: Sendable {
        case text([UInt8])
        case variable(Name, escaped: Bool)
        case section(Name, body: CompiledTemplate)
        case invertedSection(Name, body: CompiledTemplate)
        case blockDefinition(String, body: CompiledTemplate)
        case blockExpansion(String, default: CompiledTemplate, indentation: [UInt8])
        case partial(String, indentation: [UInt8]?, overrides: [String: CompiledTemplate]?)
    }

    /// Templates this one includes (`{{>name}}`) or extends (`{{<name}}`), in order of appearance.
    var partialNames: [String] {
        nodes.flatMap { node -> [String] in
            switch node {
            case .text, .variable: []
            case .section(_, let body), .invertedSection(_, let body), .blockDefinition(_, let body): body.partialNames
            case .blockExpansion(_, let body, _): body.partialNames
            case .partial(let name, _, let overrides):
                [name] + (overrides ?? [:]).sorted { $0.key < $1.key }.flatMap(\.value.partialNames)
            }
        }
    }

    /// A variable or section name, split once at load.
    struct Name: Sendable {
        enum Kind: Sendable {
            /// `{{.}}`: the innermost object.
            case current
            /// `{{.a}}`: only the innermost object is searched.
            case anchored
            /// `{{a.b}}`: the first part is searched up the context stack.
            case searched
        }

        let kind: Kind
        let parts: [String]

        init(_ text: String) {
            if text == "." {
                kind = .current
                parts = []
            } else {
                kind = text.first == "." ? .anchored : .searched
                parts = text.split(separator: ".").map(String.init)
            }
        }
    }

    /// The nodes as parsed: a text node per line, which indented rendering needs.
    let nodes: [Node]
    /// The same with adjacent text joined, for the usual rendering without indentation.
    let joinedNodes: [Node]

    init(nodes: [Node]) {
        self.nodes = nodes
        var joined: [Node] = []
        for node in nodes {
            if case .text(let bytes) = node, case .text(let previous)? = joined.last {
                joined[joined.count - 1] = .text(previous + bytes)
            } else {
                joined.append(node)
            }
        }
        joinedNodes = joined
    }
}

/// Why a template does not load; `offset` counts characters from the start of the file.
struct TemplateParseError: Error {
    var reason: String
    var offset: Int
}

/// The parser: a port of swift-mustache's, with its quirks kept on purpose (for instance the
/// whitespace before a comment that is not standalone moves to the next text).
struct TemplateParser {
    private struct State {
        var sectionName: String?
        var newLine = true
        var isPartialDefinition = false
        var isPartialDefinitionTopLevel = false
        var partialDefinitionIndent: [Character]?

        func withSectionName(_ name: String, newLine: Bool) -> State {
            var state = self
            state.sectionName = name
            state.isPartialDefinitionTopLevel = false
            if !newLine { state.newLine = false }
            return state
        }

        func withInheritancePartial(_ name: String) -> State {
            var state = self
            state.sectionName = name
            state.newLine = true
            state.isPartialDefinition = true
            state.isPartialDefinitionTopLevel = true
            return state
        }
    }

    private let characters: [Character]
    private var position = 0

    static func parse(_ text: String) throws(TemplateParseError) -> CompiledTemplate {
        var parser = TemplateParser(characters: Array(text))
        return try parser.parse(State())
    }

    private init(characters: [Character]) {
        self.characters = characters
    }

    // MARK: Scanning

    private var reachedEnd: Bool { position >= characters.count }
    private var current: Character? { reachedEnd ? nil : characters[position] }
    private var currentIsNewline: Bool { current?.isNewline ?? false }

    private func error(_ reason: String) -> TemplateParseError {
        TemplateParseError(reason: reason, offset: position)
    }

    @discardableResult
    private mutating func read(while predicate: (Character) -> Bool) -> [Character] {
        let start = position
        while let c = current, predicate(c) { position += 1 }
        return Array(characters[start..<position])
    }

    /// Reads `string` if the input continues with it.
    private mutating func read(_ string: String) -> Bool {
        let wanted = Array(string)
        guard position + wanted.count <= characters.count,
              Array(characters[position..<position + wanted.count]) == wanted else { return false }
        position += wanted.count
        return true
    }

    private static let nameCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?()*")
    private static let partialNameCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?()*/")

    private mutating func parseName() throws(TemplateParseError) -> String {
        read(while: \.isWhitespace)
        let name = String(read(while: Self.nameCharacters.contains))
        read(while: \.isWhitespace)
        guard read("}}") else { throw error("unfinished tag") }
        guard !name.contains("("), !name.contains(")") else { throw error("transforms are not supported: \(name)") }
        return name
    }

    private mutating func parsePartialName() throws(TemplateParseError) -> String {
        read(while: \.isWhitespace)
        let name = String(read(while: Self.partialNameCharacters.contains))
        read(while: \.isWhitespace)
        guard read("}}") else { throw error("unfinished tag") }
        guard !name.hasPrefix("*") else { throw error("dynamic partials are not supported: \(name)") }
        return name
    }

    /// Text up to the next `{{` (consumed) or newline (not consumed).
    private mutating func readUntilTagOrNewline() -> [Character] {
        var text: [Character] = []
        while let c = current {
            if c == "\n" || c == "\r\n" { break }
            if c == "{" {
                if read("{{") { break }
                text.append(c)
                position += 1
                continue
            }
            text.append(c)
            position += 1
        }
        return text
    }

    /// At the end of input, or only spaces and tabs before a newline (then consumed through it).
    private mutating func hasLineFinished() -> Bool {
        if reachedEnd { return true }
        var probe = position
        while probe < characters.count, characters[probe] == " " || characters[probe] == "\t" { probe += 1 }
        if probe < characters.count, characters[probe].isNewline {
            position = probe + 1
            return true
        }
        return false
    }

    private mutating func isStandalone(_ state: State) -> Bool {
        state.newLine && hasLineFinished()
    }

    // MARK: Parsing

    private mutating func parse(_ initial: State) throws(TemplateParseError) -> CompiledTemplate {
        var nodes: [CompiledTemplate.Node] = []
        var state = initial
        var whiteSpaceBefore: [Character] = []
        func text(_ characters: [Character]) -> CompiledTemplate.Node { .text(Array(String(characters).utf8)) }

        while !reachedEnd {
            if state.newLine {
                let whiteSpace = read { $0 == " " || $0 == "\t" }
                if state.isPartialDefinition, !state.isPartialDefinitionTopLevel {
                    if let indent = state.partialDefinitionIndent {
                        whiteSpaceBefore = Array(whiteSpace.dropFirst(indent.count))
                    } else {
                        state.partialDefinitionIndent = whiteSpace
                    }
                } else {
                    whiteSpaceBefore = whiteSpace
                }
            }
            let content = readUntilTagOrNewline()
            if currentIsNewline, let newline = current {
                nodes.append(text(whiteSpaceBefore + content + [newline]))
                state.newLine = true
                position += 1
                continue
            }
            if !content.isEmpty {
                nodes.append(text(whiteSpaceBefore + content))
                whiteSpaceBefore = []
                state.newLine = false
            }
            guard let tag = current else { break }
            var setNewLine = false
            switch tag {
            case "#", "^":
                position += 1
                let name = try parseName()
                if isStandalone(state) {
                    setNewLine = true
                } else if !whiteSpaceBefore.isEmpty {
                    nodes.append(text(whiteSpaceBefore))
                    whiteSpaceBefore = []
                }
                let body = try parse(state.withSectionName(name, newLine: setNewLine))
                nodes.append(tag == "#" ? .section(.init(name), body: body) : .invertedSection(.init(name), body: body))

            case "/":
                position += 1
                let name = try parseName()
                guard name == state.sectionName else {
                    throw error("closing tag {{/\(name)}} does not match the open section \(state.sectionName ?? "(none)")")
                }
                if !isStandalone(state), !whiteSpaceBefore.isEmpty {
                    nodes.append(text(whiteSpaceBefore))
                }
                return CompiledTemplate(nodes: nodes)

            case "!":
                position += 1
                while !read("}}") {
                    guard !reachedEnd else { throw error("unfinished comment") }
                    position += 1
                }
                setNewLine = isStandalone(state)

            case "{", "&":
                if !whiteSpaceBefore.isEmpty {
                    nodes.append(text(whiteSpaceBefore))
                    whiteSpaceBefore = []
                }
                position += 1
                let name = try parseName()
                if tag == "{" {
                    guard read("}") else { throw error("unfinished tag") }
                }
                nodes.append(.variable(.init(name), escaped: false))

            case ">":
                position += 1
                read(while: \.isWhitespace)
                let name = try parsePartialName()
                if !whiteSpaceBefore.isEmpty { nodes.append(text(whiteSpaceBefore)) }
                if isStandalone(state) {
                    setNewLine = true
                    nodes.append(.partial(name, indentation: Array(String(whiteSpaceBefore).utf8), overrides: nil))
                } else {
                    nodes.append(.partial(name, indentation: nil, overrides: nil))
                }
                whiteSpaceBefore = []

            case "<":
                position += 1
                read(while: \.isWhitespace)
                let name = try parsePartialName()
                if !whiteSpaceBefore.isEmpty { nodes.append(text(whiteSpaceBefore)) }
                if isStandalone(state) { setNewLine = true }
                let body = try parse(state.withInheritancePartial(name))
                var overrides: [String: CompiledTemplate] = [:]
                for node in body.nodes {
                    switch node {
                    case .blockDefinition(let block, let template): overrides[block] = template
                    case .text: break
                    default: throw error("only {{$block}} definitions may appear inside {{<\(name)}}")
                    }
                }
                nodes.append(.partial(name, indentation: Array(String(whiteSpaceBefore).utf8), overrides: overrides))
                whiteSpaceBefore = []

            case "$":
                position += 1
                let name = try parseName()
                if state.isPartialDefinitionTopLevel {
                    if isStandalone(state) { setNewLine = true }
                    let body = try parse(state.withSectionName(name, newLine: setNewLine))
                    nodes.append(.blockDefinition(name, body: body))
                } else {
                    if !whiteSpaceBefore.isEmpty { nodes.append(text(whiteSpaceBefore)) }
                    if isStandalone(state) { setNewLine = true }
                    let body = try parse(state.withSectionName(name, newLine: setNewLine))
                    nodes.append(.blockExpansion(name, default: body, indentation: Array(String(whiteSpaceBefore).utf8)))
                    whiteSpaceBefore = []
                }

            case "=", "%":
                throw error(tag == "=" ? "set-delimiter tags are not supported" : "pragmas are not supported")

            default:
                if !whiteSpaceBefore.isEmpty {
                    nodes.append(text(whiteSpaceBefore))
                    whiteSpaceBefore = []
                }
                nodes.append(.variable(.init(try parseName()), escaped: true))
            }
            state.newLine = setNewLine
        }
        guard state.sectionName == nil else { throw error("section \(state.sectionName ?? "") is never closed") }
        return CompiledTemplate(nodes: nodes)
    }
}
