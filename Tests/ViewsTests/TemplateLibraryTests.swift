import Foundation
import Testing
@testable import Views

/// The package root, found from this file's path: <root>/Tests/ViewsTests/<file>.
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let templatesDirectory = packageRoot.appendingPathComponent("Templates").path

/// A fresh temporary directory, removed by the caller.
func makeTempDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("jinlin-views-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, to relative: String, in directory: URL) throws {
    let url = directory.appendingPathComponent(relative)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

@Suite struct TemplateLibraryTests {
    @Test func loadsTheRealTemplatesDirectory() throws {
        let library = try TemplateLibrary(
            directory: templatesDirectory,
            required: ["layout", "login", "errors/error", "partials/flash", "partials/field_error", "partials/pagination"])
        for name in ["layout", "login", "errors/error", "partials/flash", "partials/field_error", "partials/pagination"] {
            #expect(library.contains(name), "\(name) not loaded")
        }
        #expect(library.names == library.names.sorted())
    }

    @Test func aTemplatesDirectoryReachedThroughASymbolicLinkLoads() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("<p>{{name}}</p>\n", to: "release/pages/hello.mustache", in: dir)
        let link = dir.appendingPathComponent("Templates")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: dir.appendingPathComponent("release"))
        let library = try TemplateLibrary(directory: link.path, required: ["pages/hello"])
        #expect(library.names == ["pages/hello"])
    }

    @Test func brokenTemplateFailsStartWithFileNameAndProblem() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("<p>ok {{name}}</p>\n", to: "good.mustache", in: dir)
        try write("<ul>\n{{#items}}<li>{{name}}</li>\n{{/itemz}}\n</ul>\n", to: "pages/broken.mustache", in: dir)

        do {
            _ = try TemplateLibrary(directory: dir.path)
            Issue.record("loading a broken template should fail")
        } catch let error as TemplateError {
            guard case .parse(let file, let line, _, _, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(file.hasSuffix("pages/broken.mustache"))
            #expect(line == 3)
            #expect(reason.contains("does not match"))
            #expect(error.description.contains("pages/broken.mustache"))
        }
    }

    @Test func unclosedSectionIsReported() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("{{#user}}<b>{{name}}</b>", to: "open.mustache", in: dir)
        #expect {
            try TemplateLibrary(directory: dir.path)
        } throws: { error in
            (error as? TemplateError).map { "\($0)" }.map { $0.contains("open.mustache") && $0.contains("never closed") } ?? false
        }
    }

    @Test func missingPartialFailsStart() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("<div>{{> partials/nope }}</div>", to: "page.mustache", in: dir)
        #expect(throws: TemplateError.missingPartial(file: dir.appendingPathComponent("page.mustache").path, partial: "partials/nope")) {
            try TemplateLibrary(directory: dir.path)
        }
        try write("{{<nolayout}}{{$body}}x{{/body}}{{/nolayout}}", to: "page.mustache", in: dir)
        #expect(throws: TemplateError.missingPartial(file: dir.appendingPathComponent("page.mustache").path, partial: "nolayout")) {
            try TemplateLibrary(directory: dir.path)
        }
    }

    @Test func missingRequiredTemplateAndDirectoryFail() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("hi", to: "layout.mustache", in: dir)
        #expect(throws: TemplateError.missingTemplate(name: "errors/error", directory: dir.path)) {
            try TemplateLibrary(directory: dir.path, required: ["layout", "errors/error"])
        }
        let nowhere = dir.appendingPathComponent("does-not-exist").path
        #expect(throws: TemplateError.directoryNotFound(path: nowhere)) {
            try TemplateLibrary(directory: nowhere)
        }
    }

    @Test func nonUTF8TemplateFails() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([0x3C, 0x70, 0x3E, 0xC4, 0xE3, 0xFF]).write(to: dir.appendingPathComponent("gbk.mustache"))
        #expect(throws: TemplateError.notUTF8(file: dir.appendingPathComponent("gbk.mustache").path)) {
            try TemplateLibrary(directory: dir.path)
        }
    }

    @Test func namesAreRelativePathsAndOtherFilesAreIgnored() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("A{{>partials/b}}", to: "a.mustache", in: dir)
        try write("B", to: "partials/b.mustache", in: dir)
        try write("C", to: "deep/er/c.mustache", in: dir)
        try write("{{#broken", to: "notes.txt", in: dir)
        try write("{{#broken", to: ".hidden.mustache", in: dir)
        let library = try TemplateLibrary(directory: dir.path)
        #expect(library.names == ["a", "deep/er/c", "partials/b"])
        #expect(try library.render([String: Any](), template: "a") == "AB")
        #expect(try library.renderBytes([String: Any](), template: "deep/er/c") == Array("C".utf8))
    }

    @Test func unknownTemplateNameErrors() throws {
        let library = try TemplateLibrary(directory: templatesDirectory)
        #expect(throws: TemplateError.unknownTemplate(name: "no/such/page")) {
            try library.render([String: Any](), template: "no/such/page")
        }
        #expect(throws: TemplateError.unknownTemplate(name: "layout.mustache")) {
            try library.renderBytes([String: Any](), template: "layout.mustache")
        }
    }

    @Test func partialNamesAreCollectedFromTheParsedTemplate() throws {
        let template = try TemplateParser.parse("{{>a}} {{#s}}{{> b/c }}{{/s}} {{<layout}}{{$x}}{{>d}}{{/x}}{{/layout}} {{name}}")
        #expect(template.partialNames == ["a", "b/c", "layout", "d"])
    }
}
