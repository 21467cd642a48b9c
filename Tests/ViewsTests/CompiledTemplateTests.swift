import Foundation
import Testing
import TemplateTestSupport
@testable import Views

/// The application's renderer against swift-mustache 2.1.1 on the cases where Mustache's rules
/// are subtle: standalone lines, indented partials, inheritance, lists, optionals, look-ups
/// up the context stack. Each case is also checked against its literal expected output, so
/// that the two renderers cannot agree on a wrong answer unnoticed.
@Suite struct CompiledTemplateTests {
    static let templates: [String: String] = [
        "standalone": "<ul>\n  {{#items}}\n  <li>{{name}}</li>\n  {{/items}}\n  {{^items}}\n  <li>none</li>\n  {{/items}}\n</ul>\n",
        "inline": "a {{#flag}}yes{{/flag}}{{^flag}}no{{/flag}} b  {{! note }}  c\n",
        "escape": "{{text}}|{{{text}}}|{{&text}}|{{number}}|{{yes}}\n",
        "stack": "{{#rows}}{{name}}:{{title}}:{{#tags}}[{{.}}]{{/tags}};{{/rows}}{{outer.inner.value}}{{#outer}}{{.missing}}{{inner.value}}{{/outer}}\n",
        "optional": "{{#maybe}}some({{maybe}}){{/maybe}}{{^maybe}}none{{/maybe}}|{{#empty}}E{{/empty}}|{{none}}|{{#none}}n{{/none}}\n",
        "outer": "<div>\n  {{>inner}}\n</div>\n",
        "inner": "<p>\n{{text}}\n</p>\n",
        "base": "<main>\n  {{$body}}default{{/body}}\n</main>\n{{$foot}}<footer>{{title}}</footer>{{/foot}}\n",
        "page": "{{<base}}\n{{$body}}\n<h1>{{title}}</h1>\n  <p>indented</p>\n{{/body}}\n{{/base}}\n",
        "nested": "{{<page}}{{$foot}}override{{/foot}}{{/page}}",
        "records": "{{#people}}{{name}}/{{age}}/{{title}}/{{#note}}[{{note}}]{{/note}}{{^note}}-{{/note}}/{{#tags}}<{{.}}>{{/tags}}{{#party}}*{{/party}};{{/people}}{{^people}}none{{/people}}|{{#members}}{{name}}({{title}});{{/members}}{{^members}}none{{/members}}|{{#nobody}}x{{/nobody}}{{^nobody}}none{{/nobody}}\n",
    ]

    /// A list row answering its names itself (`TemplateRecord`).
    struct Person: TemplateRecord {
        let name: String
        let age: Int
        let note: String?
        let tags: [String]
        let party: Bool

        func templateValue(named key: String) -> Any? {
            switch key {
            case "name": name
            case "age": age
            case "note": note
            case "tags": tags
            case "party": party
            default: nil
            }
        }
    }

    /// The same as a class, in a `[any TemplateRecord]` list (the renderer's fast path).
    final class Member: TemplateRecord {
        let name: String
        init(name: String) { self.name = name }
        func templateValue(named key: String) -> Any? { key == "name" ? name : nil }
    }

    static var context: [String: Any] { [
        "items": [["name": "一"], ["name": "<二>"]] as [[String: Any]],
        "flag": false,
        "text": "<a href=\"x\">'&'</a>",
        "number": 42,
        "yes": true,
        "title": "标题",
        "rows": [["name": "甲", "tags": ["独居", "高龄"]], ["name": "乙", "title": "自己的", "tags": [String]()]] as [[String: Any]],
        "outer": ["inner": ["value": "深"] as [String: Any]] as [String: Any],
        "maybe": Optional("x") as Any,
        "empty": [Int](),
        "none": Optional<String>.none as Any,
        "people": [Person(name: "<甲>", age: 80, note: "独居", tags: ["高龄"], party: true),
                   Person(name: "乙", age: 7, note: nil, tags: [], party: false)],
        "members": [Member(name: "丙"), Member(name: "丁")] as [any TemplateRecord],
        "nobody": [any TemplateRecord](),
    ] }

    static let expected: [String: String] = [
        "standalone": "<ul>\n  <li>一</li>\n  <li>&lt;二&gt;</li>\n</ul>\n",
        "inline": "a no b    c\n",
        "escape": "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;|<a href=\"x\">'&'</a>|<a href=\"x\">'&'</a>|42|true\n",
        "stack": "甲:标题:[独居][高龄];乙:自己的:;深深\n",
        "optional": "some(x)||nil|n\n",
        "outer": "<div>\n  <p>\n  &lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\n  </p>\n</div>\n",
        "page": "<main>\n  <h1>标题</h1>\n    <p>indented</p>\n\n</main>\n<footer>标题</footer>\n",
        "nested": "<main>\n  <h1>标题</h1>\n    <p>indented</p>\n\n</main>\noverride\n",
        // A name the record does not have (title) is found further out; an empty optional is missing.
        "records": "&lt;甲&gt;/80/标题/[独居]/<高龄>*;乙/7/标题/-/;|丙(标题);丁(标题);|none\n",
    ]

    @Test func rendersLikeSwiftMustache() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in Self.templates { try write(text, to: name + ".mustache", in: dir) }
        let check = try MustacheReference.check(directory: dir.path)
        let library = try TemplateLibrary(directory: dir.path)
        for (name, expected) in Self.expected.sorted(by: { $0.key < $1.key }) {
            let bytes = try library.renderBytes(Self.context, template: name)
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(name)")
            #expect(throws: Never.self, "\(name) differs from swift-mustache") { try check(name, Self.context, bytes) }
        }
    }

    @Test func checkFailsARenderThatDiffers() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("<p>{{name}}</p>", to: "p.mustache", in: dir)
        let check = try MustacheReference.check(directory: dir.path)
        #expect(throws: MustacheReference.Mismatch.self) { try check("p", ["name": "甲"], Array("<p>乙</p>".utf8)) }
        let library = try TemplateLibrary(directory: dir.path, check: check)
        #expect(try library.render(["name": "甲"], template: "p") == "<p>甲</p>")
    }

    @Test func unsupportedTagsAreRefusedAtLoad() throws {
        for (text, reason) in [("{{=<% %>=}}", "set-delimiter"), ("{{upper(name)}}", "transforms"), ("{{>*dynamic}}", "dynamic"),
                               ("{{! never closed", "unfinished comment")] {
            let dir = try makeTempDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try write(text, to: "t.mustache", in: dir)
            #expect(performing: { try TemplateLibrary(directory: dir.path) }, throws: { error in
                "\(error)".contains(reason) && "\(error)".contains("t.mustache")
            })
        }
    }

    /// Every template of the application, rendered with an empty context: both renderers must
    /// agree even when every name is missing.
    @Test func applicationTemplatesWithAnEmptyContext() throws {
        let check = try MustacheReference.check(directory: templatesDirectory)
        let library = try TemplateLibrary(directory: templatesDirectory, check: check)
        for name in library.names {
            _ = try library.renderBytes([String: Any](), template: name)
        }
    }
}
