import Foundation
import Testing
import TemplateTestSupport
@testable import Views

@Suite struct RenderingTests {
    let library: TemplateLibrary

    init() throws {
        library = try TemplateLibrary(directory: templatesDirectory, check: try MustacheReference.check(directory: templatesDirectory))
    }

    @Test func userDataIsEscapedInTheLayout() throws {
        let page = PageContext(
            title: "<script>alert('t')</script>",
            user: PageUser(displayName: "<script>alert(\"x\")</script>王&李", roleName: "社区工作人员"),
            path: "/residents",
            flashes: [.error("<img src=x onerror=alert(1)>")],
            csrfToken: "tok\"><script>")
        let html = try library.render(page.layout(), template: "layout")
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;王&amp;李"))
        #expect(html.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; · 近邻"))
        #expect(html.contains("value=\"tok&quot;&gt;&lt;script&gt;\""))
    }

    @Test func layoutStructure() throws {
        var page = PageContext(
            title: "居民管理", user: PageUser(displayName: "张晓梅", roleName: "网格员"),
            path: "/residents/42", flashes: [.success("已保存")], csrfToken: "CSRF123")
        page.navItems = [(title: "首页", path: "/"), (title: "居民", path: "/residents"),
                         (title: "诉求工单", path: "/cases")]
        let html = try library.render(page.layout(), template: "layout")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<html lang=\"zh-CN\">"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(html.contains("<link rel=\"stylesheet\" href=\"/css/app.css\">"))
        #expect(html.contains("<title>居民管理 · 近邻</title>"))
        #expect(html.contains("近邻"))
        #expect(html.contains("党建引领基层治理"))
        #expect(html.contains("张晓梅"))
        #expect(html.contains("网格员"))
        #expect(html.contains("<form class=\"logout-form\" method=\"post\" action=\"/logout\">"))
        #expect(html.contains("<input type=\"hidden\" name=\"_csrf\" value=\"CSRF123\">"))
        #expect(html.contains("<a href=\"/residents\" class=\"current\" aria-current=\"page\">居民</a>"))
        #expect(html.contains("<a href=\"/cases\">诉求工单</a>"))
        #expect(!html.contains("/admin/users"))
        #expect(html.contains("<div class=\"flash flash-success\" role=\"status\">已保存</div>"))
        #expect(html.contains("<footer"))
    }

    @Test func layoutWithoutUserHasNoNavOrLogout() throws {
        let html = try library.render(PageContext(title: "登录").layout(), template: "layout")
        #expect(!html.contains("主导航"))
        #expect(!html.contains("/logout"))
        #expect(!html.contains("class=\"flashes\""))
    }

    @Test func layoutInheritanceFillsTheBodyBlock() throws {
        // Copy the real templates and add a page that inherits the layout.
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = URL(fileURLWithPath: templatesDirectory)
        for name in try TemplateLibrary(directory: templatesDirectory).names {
            let data = try Data(contentsOf: real.appendingPathComponent(name + ".mustache"))
            try write(String(decoding: data, as: UTF8.self), to: name + ".mustache", in: dir)
        }
        try write("""
            {{<layout}}
            {{$body}}
            <h1>{{heading}}</h1>
            <ul>{{#rows}}<li>{{name}}</li>{{/rows}}</ul>
            {{>partials/pagination}}
            {{/body}}
            {{/layout}}
            """, to: "residents/index.mustache", in: dir)
        let library = try TemplateLibrary(directory: dir.path)
        let page = PageContext(title: "居民", user: PageUser(displayName: "李", roleName: "社区工作人员"), path: "/residents")
        var context = page.merging(["heading": "居民列表", "rows": [["name": "王<b>"], ["name": "赵六"]]])
        context.merge(Pagination(page: 2, perPage: 20, total: 45).context(path: "/residents", query: [("q", "王 五&")])) { $1 }
        let html = try library.render(context, template: "residents/index")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<h1>居民列表</h1>"))
        #expect(html.contains("<li>王&lt;b&gt;</li><li>赵六</li>"))
        #expect(html.contains("第 2 / 3 页，共 45 条"))
        #expect(html.contains("href=\"/residents?q=%E7%8E%8B%20%E4%BA%94%26&amp;page=1\""))
        #expect(html.contains("href=\"/residents?q=%E7%8E%8B%20%E4%BA%94%26&amp;page=3\""))
        // The body sits inside <main>, before the footer.
        let main = try #require(html.range(of: "<main"))
        let heading = try #require(html.range(of: "<h1>居民列表</h1>"))
        let footer = try #require(html.range(of: "<footer"))
        #expect(main.lowerBound < heading.lowerBound && heading.lowerBound < footer.lowerBound)
    }

    @Test(arguments: [400, 403, 404, 405, 413, 422, 500])
    func errorPageRendersChineseTextForEachStatus(status: Int) throws {
        let html = try library.render(ErrorPage.context(status: status), template: "errors/error")
        let expected: [Int: String] = [
            400: "请求无效", 403: "没有权限访问", 404: "页面不存在", 405: "不支持的请求方式",
            413: "上传内容过大", 422: "提交的内容有误", 500: "服务器内部错误",
        ]
        let title = try #require(expected[status])
        #expect(html.contains("<h1>\(title)</h1>"))
        #expect(html.contains("<title>\(title) · 近邻</title>"))
        #expect(html.contains("<p class=\"error-code\">\(status)</p>"))
        #expect(html.contains(ErrorPage.message(for: status)))
        #expect(html.contains("href=\"/\""))
        #expect(html.contains("返回首页"))
        #expect(html.contains("<html lang=\"zh-CN\">"))
        if status == 500 { #expect(html.contains("服务器内部错误，请稍后重试")) }
    }

    @Test func errorPageDetailIsEscapedAndSignedInUserKeepsNav() throws {
        var page = PageContext(title: "", user: PageUser(displayName: "管理员", roleName: "系统管理员"), path: "/admin/users/9")
        page.navItems = [(title: "首页", path: "/"), (title: "用户管理", path: "/admin/users")]
        let html = try library.render(
            ErrorPage.context(status: 404, detail: "编号 <9> 不存在", page: page), template: "errors/error")
        #expect(html.contains("<p class=\"error-detail\">编号 &lt;9&gt; 不存在</p>"))
        #expect(html.contains("aria-current=\"page\">用户管理</a>"))
        #expect(html.contains("<title>页面不存在 · 近邻</title>"))
    }

    @Test func loginPageKeepsUsernameAndShowsErrors() throws {
        var form = FormState(values: ["username": "zhang<san>", "password": "should-not-echo"])
        form.addError("请输入密码", for: "password")
        var context = PageContext(title: "登录", csrfToken: "abc").merging(form.context())
        context["error"] = "用户名或密码错误"
        let html = try library.render(context, template: "login")
        #expect(html.contains("<form class=\"form login-form\" method=\"post\" action=\"/login\">"))
        #expect(html.contains("<input type=\"hidden\" name=\"_csrf\" value=\"abc\">"))
        #expect(html.contains("name=\"username\" value=\"zhang&lt;san&gt;\""))
        #expect(!html.contains("should-not-echo"))
        #expect(html.contains("<div class=\"flash flash-error\" role=\"alert\">用户名或密码错误</div>"))
        #expect(html.contains("<p class=\"field-error\">请输入密码</p>"))
        #expect(html.contains("<div class=\"field has-error\">\n      <label for=\"password\">"))
        #expect(html.contains("<div class=\"field\">\n      <label for=\"username\">"))
        #expect(html.contains("近邻"))
        #expect(!html.contains("/logout"))

        let clean = try library.render(PageContext(title: "登录").merging(FormState().context()), template: "login")
        #expect(!clean.contains("field-error"))
        #expect(!clean.contains("has-error"))
        #expect(!clean.contains("flash-error"))
    }

    @Test func flashPartialRendersEachKind() throws {
        let page = PageContext(title: "t", flashes: [.success("成功"), .error("失败"), .info("提示")])
        let html = try library.render(page.layout(), template: "partials/flash")
        #expect(html.contains("<div class=\"flash flash-success\" role=\"status\">成功</div>"))
        #expect(html.contains("<div class=\"flash flash-error\" role=\"alert\">失败</div>"))
        #expect(html.contains("<div class=\"flash flash-info\" role=\"status\">提示</div>"))
        #expect(try library.render(PageContext(title: "t").layout(), template: "partials/flash").isEmpty)
    }

    @Test func paginationPartialAtTheEdges() throws {
        let first = try library.render(Pagination(page: 1, perPage: 50, total: 120).context(path: "/cases"), template: "partials/pagination")
        #expect(first.contains("<span class=\"btn disabled\" aria-disabled=\"true\">上一页</span>"))
        #expect(first.contains("<a class=\"btn\" href=\"/cases?page=2\" rel=\"next\">下一页</a>"))
        #expect(first.contains("第 1 / 3 页，共 120 条"))
        let empty = try library.render(Pagination(page: 7, perPage: 50, total: 0).context(path: "/cases"), template: "partials/pagination")
        #expect(empty.contains("第 1 / 1 页，共 0 条"))
        #expect(!empty.contains("href="))
    }
}

