import Foundation
import Testing
@testable import Views

@Suite struct PageContextTests {
    static let items: [NavItem] = [
        (title: "首页", path: "/"), (title: "我的", path: "/me"), (title: "网格", path: "/grids"), (title: "居民", path: "/residents"),
        (title: "党员", path: "/members"), (title: "志愿服务", path: "/activities"), (title: "积分", path: "/points/board"),
        (title: "用户管理", path: "/admin/users"), (title: "审计日志", path: "/admin/audit"),
    ]

    @Test func roleNameIsWhatTheCallerGives() {
        #expect(PageUser(displayName: "x", roleName: "党员").context["roleName"] as? String == "党员")
    }

    @Test func navigationKeepsTheGivenItemsInOrder() {
        #expect(navigation(Self.items, current: "/").compactMap { $0["title"] as? String }
            == ["首页", "我的", "网格", "居民", "党员", "志愿服务", "积分", "用户管理", "审计日志"])
        #expect(navigation([], current: "/").isEmpty)
    }

    @Test func currentItemMarking() {
        func current(_ role: String, _ path: String) -> [String] {
            navigation(Self.items, current: path).filter { $0["current"] as? Bool == true }.compactMap { $0["title"] as? String }
        }
        #expect(current("staff", "/") == ["首页"])
        #expect(current("staff", "/residents") == ["居民"])
        #expect(current("staff", "/residents/12/edit") == ["居民"])
        #expect(current("staff", "/residents?q=王&page=2") == ["居民"])
        #expect(current("staff", "/points/board?year=2024") == ["积分"])
        #expect(current("staff", "/points/rules") == ["积分"])
        #expect(current("staff", "/members/3/card") == ["党员"])
        #expect(current("staff", "/posts?empty=1") == ["志愿服务"])
        #expect(current("member", "/teams/4") == ["志愿服务"])
        #expect(current("member", "/me") == ["我的"])
        #expect(current("staff", "/postsx") == [])
        #expect(current("staff", "/residentsx") == [])
        #expect(current("admin", "/admin/audit") == ["审计日志"])
        #expect(current("admin", "/admin/users/5/edit") == ["用户管理"])
        #expect(current("staff", "/nowhere") == [])
        // Every item carries a Bool `current`, so templates never read an outer value.
        for item in navigation(Self.items, current: "/x") { #expect(item["current"] is Bool) }
    }

    @Test func pageContextLayoutKeys() {
        var page = PageContext(
            title: "首页", user: PageUser(displayName: "王芳", roleName: "党建指导员"),
            path: "/", flashes: [.info("欢迎")], csrfToken: "t")
        page.navItems = Self.items
        let ctx = page.merging(["title": "覆盖", "extra": 1])
        #expect(ctx["title"] as? String == "覆盖")
        #expect(ctx["extra"] as? Int == 1)
        #expect(ctx["csrfToken"] as? String == "t")
        #expect(ctx["hasNav"] as? Bool == true)
        #expect(ctx["hasFlashes"] as? Bool == true)
        #expect((ctx["user"] as? [String: Any])?["roleName"] as? String == "党建指导员")
        #expect((ctx["flashes"] as? [[String: Any]])?.first?["kind"] as? String == "info")
        let anonymous = PageContext(title: "登录").layout()
        #expect(anonymous["user"] == nil)
        #expect(anonymous["hasNav"] as? Bool == false)
    }

    @Test func formStateKeepsValuesAndShowsErrors() {
        var form = FormState(values: ["name": "王五", "phone": "1380013"], multiValues: ["tags": ["独居老人"]])
        #expect(!form.hasErrors)
        form.addError("手机号应为 11 位数字", for: "phone")
        form.addError("second message is ignored", for: "phone")
        form.addError("请输入身份证号", for: "id_number")
        let ctx = form.context()
        #expect(ctx["hasErrors"] as? Bool == true)
        #expect(ctx["errorCount"] as? Int == 2)
        #expect((ctx["values"] as? [String: String])?["name"] == "王五")
        #expect((ctx["values"] as? [String: String])?["phone"] == "1380013")
        #expect((ctx["errors"] as? [String: String])?["phone"] == "手机号应为 11 位数字")
        #expect((ctx["errors"] as? [String: String])?["name"] == nil)
        #expect((ctx["checked"] as? [String: [String]])?["tags"] == ["独居老人"])
        #expect(form.value("name") == "王五")
        #expect(form.value("missing") == "")
        #expect(FormState().context()["hasErrors"] as? Bool == false)
    }

    @Test func formStateInATemplate() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("<p class=\"field-error\">{{.}}</p>", to: "partials/field_error.mustache", in: dir)
        try write("""
            {{#hasErrors}}<div class="error-summary">共 {{errorCount}} 处错误</div>{{/hasErrors}}\
            <input name="name" value="{{values.name}}">{{#errors.name}}{{>partials/field_error}}{{/errors.name}}\
            <input name="phone" value="{{values.phone}}">{{#errors.phone}}{{>partials/field_error}}{{/errors.phone}}\
            <select name="relation">{{#relations}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/relations}}</select>
            """, to: "form.mustache", in: dir)
        let library = try TemplateLibrary(directory: dir.path)
        var form = FormState(values: ["name": "\"王\" <五>", "phone": "123"])
        form.addError("手机号格式不正确", for: "phone")
        var ctx = form.context()
        ctx["relations"] = FormState.options([("owner", "户主"), ("tenant", "租户")], selected: "tenant")
        let html = try library.render(ctx, template: "form")
        #expect(html.contains("<div class=\"error-summary\">共 1 处错误</div>"))
        #expect(html.contains("<input name=\"name\" value=\"&quot;王&quot; &lt;五&gt;\"><input"))
        #expect(html.contains("<input name=\"phone\" value=\"123\"><p class=\"field-error\">手机号格式不正确</p>"))
        #expect(html.contains("<option value=\"owner\">户主</option><option value=\"tenant\" selected>租户</option>"))
    }

    @Test func paginationArithmetic() {
        let p = Pagination(page: 3, perPage: 20, total: 45)
        #expect(p.pageCount == 3 && p.offset == 40 && p.hasPrevious && !p.hasNext)
        #expect(Pagination(page: 99, perPage: 20, total: 45).page == 3)
        #expect(Pagination(page: -1, perPage: 0, total: 5).page == 1)
        #expect(Pagination(page: 1, perPage: 10, total: 0).pageCount == 1)
        let ctx = Pagination(page: 2, perPage: 10, total: 30).context(path: "/wishes", query: [("page", "9"), ("status", "open")])
        let inner = ctx["pagination"] as? [String: Any]
        #expect(inner?["prevURL"] as? String == "/wishes?status=open&page=1")
        #expect(inner?["nextURL"] as? String == "/wishes?status=open&page=3")
    }

    @Test func errorPageTexts() {
        #expect(ErrorPage.title(for: 404) == "页面不存在")
        #expect(ErrorPage.title(for: 403) == "没有权限访问")
        #expect(ErrorPage.title(for: 413) == "上传内容过大")
        #expect(ErrorPage.message(for: 500).hasPrefix("服务器内部错误，请稍后重试"))
        #expect(ErrorPage.title(for: 418) == "请求出错")
        #expect(ErrorPage.title(for: 502) == "服务器错误")
    }
}
