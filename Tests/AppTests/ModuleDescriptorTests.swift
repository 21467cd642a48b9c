import Access
import App
import AppCore
import Foundation
import Testing

/// What the modules declare about themselves (`Module`), checked against what they register.
@Suite struct ModuleDescriptorTests {
    @Test func eachModuleDeclaresItsRoutesPermissionsAndMatrixRows() throws {
        let app = try TestApp()
        var seen = Set<String>()
        for module in Application.modules {
            var routes = AppRoutes(env: app.app.environment)
            module.routes(&routes)
            #expect(!routes.table.isEmpty, "\(module.name) registers no route")
            for entry in routes.table {
                let key = "\(entry.method) \(entry.pattern)"
                #expect(module.permissions.contains(entry.permission), "\(module.name): \(key) needs \(entry.permission), not declared")
                #expect(module.matrix.keys.contains(key), "\(module.name): \(key) has no row in its matrix")
                #expect(seen.insert(key).inserted, "\(key) registered by two modules")
            }
            #expect(Set(module.matrix.keys) == Set(routes.table.map { "\($0.method) \($0.pattern)" }),
                    "\(module.name): matrix rows without a route")
        }
        let actions = Application.modules.flatMap(\.auditLabels).map(\.action)
        // Report sections: each contribution names a section, and the reports module shows them.
        let sections = ModuleRegistry(Application.modules).reportSections
        #expect(Set(sections.map(\.id)).isSuperset(of: ["residents", "members", "volunteering", "wishes", "points"]))
        #expect(sections.map(\.order) == sections.map(\.order).sorted())
        #expect(Set(actions).count == actions.count, "an audit action named twice")
    }

    @Test func theMenuComesFromTheDescriptorsAndThePolicy() throws {
        let registry = ModuleRegistry(Application.modules)
        func titles(_ role: Role) -> [String] {
            registry.navigation.filter { $0.permission.roles.contains(role) }.map(\.title)
        }
        #expect(titles(.admin) == ["首页", "网格", "党员", "微心愿", "积分公示", "积分商城", "诉求工单", "报表", "职能部门", "诉求类别", "用户管理", "审计日志"])
        #expect(titles(.staff) == ["首页", "网格", "居民", "党员", "志愿服务", "微心愿", "积分公示", "积分商城", "诉求工单", "报表"])
        #expect(titles(.gridWorker) == ["首页", "居民", "党员", "志愿服务", "微心愿", "积分公示", "诉求工单"])
        #expect(titles(.coordinator) == ["首页", "网格", "居民", "党员", "志愿服务", "微心愿", "积分公示", "诉求工单", "报表"])
        #expect(titles(.member) == ["首页", "我的", "志愿服务", "微心愿", "积分公示", "积分商城", "诉求工单"])
        #expect(titles(.resident) == ["首页", "微心愿", "积分商城", "诉求工单"])
        #expect(titles(.unitHandler) == ["首页", "诉求工单"])

        let app = try TestApp()
        let page = try app.signedIn(.staff).get("/residents")
        #expect(page.text.contains("aria-current=\"page\">居民</a>"))
        #expect(page.text.contains(">网格</a>") && !page.text.contains(">用户管理</a>"))
    }
}
