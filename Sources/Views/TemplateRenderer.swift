import Foundation

/// Renders `CompiledTemplate`s with the value rules of swift-mustache 2.1.1, into one buffer.
///
/// Values are what handlers build: `[String: Any]` objects, `[[String: Any]]` and `[String]`
/// lists, `String`, `Int`, `Int64`, `Bool`. Those are recognised by their exact type, without the
/// protocol casts that dominate swift-mustache's cost; anything else takes a slower path that
/// follows swift-mustache (other arrays and sets, other string-keyed dictionaries, optionals,
/// `NSNull`, structs read through `Mirror`). A `TemplateRecord` (a list's rows) answers its
/// names itself, without a dictionary to build and hash.
///
/// The rules, as swift-mustache has them:
/// * A name is looked up in the innermost object, then outwards; `a.b` looks up `a` that way
///   and `b` only inside it. A key that is present counts as found even when its value is an
///   empty optional.
/// * A section over a list renders once per element; over `true` once with the same context;
///   over `false`, a missing name or `NSNull` not at all; over anything else once, with the
///   value pushed. An inverted section renders for an empty list, `false`, or a missing name.
/// * `{{x}}` writes `String(describing:)` of the value, HTML-escaped (`< > & " '`).
struct TemplateRenderer: Sendable {
    let templates: [String: CompiledTemplate]

    /// One level of the context stack; objects are unwrapped once when pushed.
    private enum Frame {
        case object([String: Any])
        case record(any TemplateRecord)
        case other(Any)

        var value: Any {
            switch self {
            case .object(let object): object
            case .record(let record): record
            case .other(let value): value
            }
        }
    }

    /// What partials and blocks change; the context stack is passed separately, `inout`, so a
    /// section pushes and pops without copying it.
    private struct Scope {
        var indentation: [UInt8]?
        var inherited: [String: CompiledTemplate]?
    }

    func render(_ template: CompiledTemplate, object: Any) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 * 1024)
        var stack = [Self.frame(object)]
        stack.reserveCapacity(8)
        render(template, Scope(), &stack, into: &out)
        return out
    }

    private func render(_ template: CompiledTemplate, _ scope: Scope, _ stack: inout [Frame], into out: inout [UInt8]) {
        guard let indentation = scope.indentation, !indentation.isEmpty else {
            for node in template.joinedNodes { render(node, scope, &stack, into: &out) }
            return
        }
        // A partial or block indented on its own line: every piece that starts a new line of
        // this template's output gets the indentation.
        let start = out.count
        var piece: [UInt8] = []
        for node in template.nodes {
            piece.removeAll(keepingCapacity: true)
            render(node, scope, &stack, into: &piece)
            if !piece.isEmpty, out.count > start, out.last == UInt8(ascii: "\n") { out += indentation }
            out += piece
        }
    }

    private func render(_ node: CompiledTemplate.Node, _ scope: Scope, _ stack: inout [Frame], into out: inout [UInt8]) {
        switch node {
        case .text(let bytes):
            out += bytes
        case .variable(let name, let escaped):
            if let value = lookup(name, stack) { Self.append(value, escaped: escaped, to: &out) }
        case .section(let name, let body):
            renderSection(lookup(name, stack), body, scope, &stack, into: &out)
        case .invertedSection(let name, let body):
            renderInvertedSection(lookup(name, stack), body, scope, &stack, into: &out)
        case .blockDefinition:
            // Only ever inside `{{<parent}}`, where the parser takes them out as overrides.
            break
        case .blockExpansion(let name, let defaultBody, let indentation):
            var inner = scope
            inner.indentation = (scope.indentation ?? []) + indentation
            render(scope.inherited?[name] ?? defaultBody, inner, &stack, into: &out)
        case .partial(let name, let indentation, let overrides):
            guard let template = templates[name] else { return }
            var inner = scope
            if let indentation { inner.indentation = (scope.indentation ?? []) + indentation }
            if let overrides {
                // The outer template's blocks win over the ones given here.
                inner.inherited = scope.inherited.map { $0.merging(overrides) { outer, _ in outer } } ?? overrides
            }
            render(template, inner, &stack, into: &out)
        }
    }

    // MARK: Sections

    private func renderSection(_ value: Any?, _ body: CompiledTemplate, _ scope: Scope, _ stack: inout [Frame],
                               into out: inout [UInt8]) {
        guard let value else { return }
        switch ObjectIdentifier(type(of: value)) {
        case Self.objectListType:
            for object in value as? [[String: Any]] ?? [] { render(body, scope, pushing: .object(object), &stack, into: &out) }
        case Self.stringListType:
            for string in value as? [String] ?? [] { render(body, scope, pushing: .other(string), &stack, into: &out) }
        case Self.recordListType:
            for record in value as? [any TemplateRecord] ?? [] { render(body, scope, pushing: .record(record), &stack, into: &out) }
        case Self.boolType:
            if value as? Bool == true { render(body, scope, &stack, into: &out) }
        case Self.objectType:
            render(body, scope, pushing: .object(value as? [String: Any] ?? [:]), &stack, into: &out)
        case Self.stringType, Self.intType, Self.int64Type:
            render(body, scope, pushing: .other(value), &stack, into: &out)
        default:
            if let list = value as? any TemplateSequence {
                for element in list.templateElements { render(body, scope, pushing: Self.frame(element), &stack, into: &out) }
            } else if let bool = value as? Bool {
                if bool { render(body, scope, &stack, into: &out) }
            } else {
                render(body, scope, pushing: Self.frame(value), &stack, into: &out)
            }
        }
    }

    private func renderInvertedSection(_ value: Any?, _ body: CompiledTemplate, _ scope: Scope, _ stack: inout [Frame],
                                       into out: inout [UInt8]) {
        guard let value else { return render(body, scope, &stack, into: &out) }
        switch ObjectIdentifier(type(of: value)) {
        case Self.objectListType:
            if (value as? [[String: Any]])?.isEmpty != false { render(body, scope, pushing: .other(value), &stack, into: &out) }
        case Self.stringListType:
            if (value as? [String])?.isEmpty != false { render(body, scope, pushing: .other(value), &stack, into: &out) }
        case Self.recordListType:
            if (value as? [any TemplateRecord])?.isEmpty != false { render(body, scope, pushing: .other(value), &stack, into: &out) }
        case Self.boolType:
            if value as? Bool != true { render(body, scope, &stack, into: &out) }
        case Self.objectType, Self.stringType, Self.intType, Self.int64Type:
            return
        default:
            if let list = value as? any TemplateSequence {
                if list.templateElements.isEmpty { render(body, scope, pushing: .other(value), &stack, into: &out) }
            } else if let bool = value as? Bool, !bool {
                render(body, scope, &stack, into: &out)
            }
        }
    }

    private func render(_ body: CompiledTemplate, _ scope: Scope, pushing frame: Frame, _ stack: inout [Frame],
                        into out: inout [UInt8]) {
        stack.append(frame)
        render(body, scope, &stack, into: &out)
        stack.removeLast()
    }

    // MARK: Names

    private func lookup(_ name: CompiledTemplate.Name, _ stack: [Frame]) -> Any? {
        switch name.kind {
        case .current:
            return stack.last.flatMap { Self.nonNull($0.value) }
        case .anchored:
            return stack.last.flatMap { child(name.parts[...], of: $0) }.flatMap(Self.nonNull)
        case .searched:
            // The common case, one part found in a dictionary near the top, reads each frame
            // where it lies in the stack.
            let first = name.parts[0]
            var index = stack.count - 1
            while index >= 0 {
                if let found = Self.immediateChild(first, of: stack[index]) {
                    if name.parts.count == 1 { return Self.nonNull(found) }
                    return child(name.parts.dropFirst(), of: Self.frame(found)).flatMap(Self.nonNull)
                }
                index -= 1
            }
            return nil
        }
    }

    private func child(_ names: ArraySlice<String>, of frame: Frame) -> Any? {
        guard let name = names.first else { return frame.value }
        guard let value = Self.immediateChild(name, of: frame) else { return nil }
        return child(names.dropFirst(), of: Self.frame(value))
    }

    private static func immediateChild(_ name: String, of frame: Frame) -> Any? {
        switch frame {
        case .object(let object): object[name]
        case .record(let record): record.templateValue(named: name)
        case .other(let value): otherChild(name, of: value)
        }
    }

    /// A name inside a value that is not a `[String: Any]`: other string-keyed dictionaries,
    /// then stored properties through `Mirror` (an optional property is unwrapped).
    private static func otherChild(_ name: String, of value: Any) -> Any? {
        switch ObjectIdentifier(type(of: value)) {
        case stringType, intType, int64Type, boolType, stringListType, objectListType, recordListType: return nil
        default: break
        }
        if value is NSNull { return nil }
        if let object = value as? any StringKeyedObject { return object.templateChild(named: name) }
        guard let match = Mirror(reflecting: value).children.first(where: { $0.label == name }) else { return nil }
        let inner = Mirror(reflecting: match.value)
        guard inner.displayStyle == .optional else { return match.value }
        return inner.children.first?.value
    }

    private static func nonNull(_ value: Any) -> Any? {
        isNull(value) ? nil : value
    }

    private static func isNull(_ value: Any) -> Bool {
        switch ObjectIdentifier(type(of: value)) {
        case stringType, intType, int64Type, boolType, objectType, stringListType, objectListType, recordListType: false
        default: value is NSNull
        }
    }

    private static func frame(_ value: Any) -> Frame {
        if ObjectIdentifier(type(of: value)) == objectType, let object = value as? [String: Any] { return .object(object) }
        if let record = value as? any TemplateRecord { return .record(record) }
        return .other(value)
    }

    // The exact dynamic types the fast paths recognise: after such a check, `as?` to that very
    // type is a cheap copy (the fallbacks after `??` never apply), while an `as?` to a type the
    // value does not have would go through the runtime's slow bridging search.
    private static let stringType = ObjectIdentifier(String.self)
    private static let intType = ObjectIdentifier(Int.self)
    private static let int64Type = ObjectIdentifier(Int64.self)
    private static let boolType = ObjectIdentifier(Bool.self)
    private static let objectType = ObjectIdentifier([String: Any].self)
    private static let objectListType = ObjectIdentifier([[String: Any]].self)
    private static let stringListType = ObjectIdentifier([String].self)
    private static let recordListType = ObjectIdentifier([any TemplateRecord].self)

    // MARK: Output

    private static func append(_ value: Any, escaped: Bool, to out: inout [UInt8]) {
        switch ObjectIdentifier(type(of: value)) {
        case stringType:
            append(value as? String ?? "", escaped: escaped, to: &out)
        case intType:
            out += String(value as? Int ?? 0).utf8
        case int64Type:
            out += String(value as? Int64 ?? 0).utf8
        default:
            // An optional holding a value writes the value; an empty one writes "nil".
            let shown = (value as? any OptionalValue)?.wrappedValue ?? value
            append(String(describing: shown), escaped: escaped, to: &out)
        }
    }

    private static func append(_ string: String, escaped: Bool, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { bytes in
            guard escaped else { return out.append(contentsOf: bytes) }
            var start = 0
            for index in 0..<bytes.count {
                let replacement: StaticString
                switch bytes[index] {
                case UInt8(ascii: "<"): replacement = "&lt;"
                case UInt8(ascii: ">"): replacement = "&gt;"
                case UInt8(ascii: "&"): replacement = "&amp;"
                case UInt8(ascii: "\""): replacement = "&quot;"
                case UInt8(ascii: "'"): replacement = "&#39;"
                default: continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(contentsOf: UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }
}

/// A value that answers a template's names itself: rows of a long list, which as `[String: Any]`
/// would each be built and hashed key by key. Give the list as `[any TemplateRecord]` (found by
/// its exact type) and make the rows classes (pushed and passed around without copying). `templateValue(named:)` must answer what
/// swift-mustache reads through `Mirror`: each stored property by its name (an optional one
/// unwrapped, nil when empty), nil for any other name. The test reference renders every page
/// with swift-mustache as well, so a record that answers otherwise fails its page's tests.
public protocol TemplateRecord {
    func templateValue(named name: String) -> Any?
}

/// The collections a section iterates (swift-mustache's `MustacheSequence` conformances).
protocol TemplateSequence {
    var templateElements: [Any] { get }
}

extension Array: TemplateSequence {
    var templateElements: [Any] { map { $0 } }
}

extension Set: TemplateSequence {
    var templateElements: [Any] { map { $0 } }
}

extension ReversedCollection: TemplateSequence {
    var templateElements: [Any] { map { $0 } }
}

/// Objects whose names are dictionary keys (swift-mustache's `MustacheParent` for dictionaries).
protocol StringKeyedObject {
    func templateChild(named name: String) -> Any?
}

extension Dictionary: StringKeyedObject where Key == String {
    func templateChild(named name: String) -> Any? { self[name] }
}

protocol OptionalValue {
    var wrappedValue: Any? { get }
}

extension Optional: OptionalValue {
    var wrappedValue: Any? { self }
}
