import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing
import Web

/// The grid tree pages over a real socket: permissions, scope, forms and the repository's refusals.
@Suite struct GridsPageTests {
    /// Loads the page a 303 points to (which shows the flash it carried).
    func follow(_ response: TestResponse, with client: AppClient) throws -> TestResponse {
        let location = try #require(response.header("location"))
        return try client.get(location)
    }

    func gridID(named name: String, in app: TestApp) throws -> Int64? {
        try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE name = ?", arguments: [name]) }
    }

    @Test func staffCreatesAChildNode() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff, username: "staffa")
        let before = try app.auditCount(action: "grid.create")

        let form = try staff.get("/grids/new?parent_id=\(app.estate.id)")
        #expect(form.status == 200)
        #expect(form.text.contains("新建网格节点"))
        #expect(form.text.contains("<option value=\"\(app.estate.id)\" selected>"))
        #expect(form.text.contains("<option value=\"grid\" selected>网格</option>"))

        let created = try staff.post("/grids/new", [
            ("name", "第二网格"), ("kind", "grid"), ("parent_id", String(app.estate.id)), ("code", ""),
        ])
        #expect(created.status == 303)
        let id = try #require(try gridID(named: "第二网格", in: app))
        #expect(created.header("location") == "/grids/\(id)")
        let page = try follow(created, with: staff)
        #expect(page.status == 200)
        #expect(page.text.contains("已创建网格节点「第二网格」"))
        #expect(page.text.contains("阳光小区"))

        let tree = try staff.get("/grids")
        #expect(tree.status == 200)
        #expect(tree.text.contains("第二网格"))
        #expect(tree.text.contains("示范社区"))
        #expect(!tree.text.contains("另一社区"))

        #expect(try app.auditCount(action: "grid.create") == before + 1)
        let actor = try app.database.read { db in
            try String.fetchOne(db, sql: """
                SELECT u.username FROM audit_log a JOIN users u ON u.id = a.actor_user_id
                 WHERE a.action = 'grid.create' AND a.entity_id = ?
                """, arguments: [id])
        }
        #expect(actor == "staffa")

        // Search by name finds it, with its place in the tree.
        let search = try staff.get("/grids?q=" + FormData.percentEncode("第二"))
        #expect(search.status == 200)
        #expect(search.text.contains("第二网格"))
        #expect(!search.text.contains(">第一网格</a>"))
    }

    @Test func validationErrorsKeepTheInput() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let count = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grids") }

        let blank = try staff.post("/grids/new", [
            ("name", "  "), ("kind", "estate"), ("parent_id", String(app.community.id)), ("code", "KEEP-ME-1"),
        ])
        #expect(blank.status == 422)
        #expect(blank.text.contains("请填写名称"))
        #expect(blank.text.contains("value=\"KEEP-ME-1\""))
        #expect(blank.text.contains("<option value=\"estate\" selected>小区</option>"))
        #expect(blank.text.contains("<option value=\"\(app.community.id)\" selected>"))

        let badCode = try staff.post("/grids/new", [
            ("name", "新小区"), ("kind", "estate"), ("parent_id", String(app.community.id)), ("code", "坏 编码"),
        ])
        #expect(badCode.status == 422)
        #expect(badCode.text.contains("编码只能包含字母、数字、点、下划线和连字符"))
        #expect(badCode.text.contains("value=\"新小区\""))

        let duplicate = try staff.post("/grids/new", [
            ("name", "阳光小区"), ("kind", "estate"), ("parent_id", String(app.community.id)),
        ])
        #expect(duplicate.status == 409)
        #expect(duplicate.text.contains("同一上级下已有名为“阳光小区”的节点"))

        // A scoped account may not create a top-level node.
        let root = try staff.post("/grids/new", [("name", "新社区"), ("kind", "community"), ("parent_id", "")])
        #expect(root.status == 422)
        #expect(root.text.contains("请选择上级节点"))

        let badKind = try staff.post("/grids/new", [("name", "某处"), ("kind", "planet"), ("parent_id", String(app.community.id))])
        #expect(badKind.status == 422)
        #expect(badKind.text.contains("请选择节点类型"))

        // Editing keeps the input too.
        let edit = try staff.post("/grids/\(app.grid.id)/edit", [
            ("name", ""), ("kind", "grid"), ("code", "NEW-CODE"), ("parent_id", String(app.estate.id)),
        ])
        #expect(edit.status == 422)
        #expect(edit.text.contains("请填写名称"))
        #expect(edit.text.contains("value=\"NEW-CODE\""))

        let after = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grids") }
        #expect(after == count)
    }

    @Test func staffEditsANode() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let form = try staff.get("/grids/\(app.grid.id)/edit")
        #expect(form.status == 200)
        #expect(form.text.contains("value=\"第一网格\""))
        let saved = try staff.post("/grids/\(app.grid.id)/edit", [
            ("name", "一号网格"), ("kind", "grid"), ("code", "SY-01"), ("parent_id", String(app.estate.id)),
        ])
        #expect(saved.status == 303)
        #expect(saved.header("location") == "/grids/\(app.grid.id)")
        let page = try follow(saved, with: staff)
        #expect(page.text.contains("已保存网格节点「一号网格」"))
        let grid = try #require(try Grids(app.database).find(app.grid.id))
        #expect(grid.name == "一号网格")
        #expect(grid.code == "SY-01")
        #expect(try app.auditCount(action: "grid.rename") == 1)
        #expect(try app.auditCount(action: "grid.change_code") == 1)
        #expect(try app.auditCount(action: "grid.move") == 0)

        // The top node of the staff's own scope can be renamed; its form offers no parent.
        let own = try staff.get("/grids/\(app.community.id)/edit")
        #expect(own.status == 200)
        #expect(!own.text.contains("name=\"parent_id\""))
        let renamed = try staff.post("/grids/\(app.community.id)/edit", [("name", "示范社区（新）"), ("kind", "community"), ("code", "SF")])
        #expect(renamed.status == 303)
        #expect(try Grids(app.database).find(app.community.id)?.name == "示范社区（新）")
    }

    @Test func rolesWithoutGridPermissionsAreRefused() throws {
        let app = try TestApp()
        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try worker.get("/grids/new").status == 403)
        #expect(try worker.get("/grids").status == 403)
        #expect(try worker.post("/grids/new", [("name", "x"), ("kind", "grid"), ("parent_id", String(app.grid.id))]).status == 403)

        let coordinator = try app.signedIn(.coordinator)
        let tree = try coordinator.get("/grids")
        #expect(tree.status == 200)
        #expect(tree.text.contains("第一网格"))
        #expect(!tree.text.contains("新建网格节点"))
        let show = try coordinator.get("/grids/\(app.estate.id)")
        #expect(show.status == 200)
        #expect(!show.text.contains("/move"))
        #expect(try coordinator.get("/grids/new").status == 403)
        #expect(try coordinator.post("/grids/new", [
            ("name", "x"), ("kind", "grid"), ("parent_id", String(app.estate.id)),
        ]).status == 403)
        #expect(try coordinator.get("/grids/\(app.grid.id)/edit").status == 403)
        #expect(try coordinator.post("/grids/\(app.building.id)/delete").status == 403)
        #expect(try Grids(app.database).find(app.building.id) != nil)
    }

    @Test func nodesOutsideTheScopeAreNotFound() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let other = app.otherCommunity.id
        #expect(try staff.get("/grids/\(other)").status == 404)
        #expect(try staff.get("/grids/\(other)/edit").status == 404)
        #expect(try staff.get("/grids/\(other)/delete").status == 404)
        #expect(try staff.post("/grids/\(other)/delete").status == 404)
        #expect(try staff.post("/grids/\(other)/move", [("parent_id", String(app.community.id))]).status == 404)
        #expect(try staff.get("/grids/999999").status == 404)
        #expect(try staff.get("/grids/abc").status == 404)

        // Nor may a node of this community go under the other one.
        let create = try staff.post("/grids/new", [("name", "越界"), ("kind", "estate"), ("parent_id", String(other))])
        #expect(create.status == 422)
        #expect(create.text.contains("所选上级节点不存在或不在您的管辖范围内"))
        let move = try staff.post("/grids/\(app.estate.id)/move", [("parent_id", String(other))])
        #expect(move.status == 303)
        #expect(try follow(move, with: staff).text.contains("所选上级节点不存在或不在您的管辖范围内"))
        #expect(try Grids(app.database).find(app.estate.id)?.parentID == app.community.id)

        // An admin sees both communities.
        let admin = try app.signedIn(.admin)
        let tree = try admin.get("/grids")
        #expect(tree.text.contains("示范社区") && tree.text.contains("另一社区"))
        #expect(try admin.get("/grids/\(other)").status == 200)
    }

    @Test func moveAndItsRefusalUnderOwnDescendant() throws {
        let app = try TestApp()
        let grids = Grids(app.database)
        let second = try grids.createChild(of: app.estate.id, name: "第二网格", kind: .grid, by: .system)
        let staff = try app.signedIn(.staff)

        let show = try staff.get("/grids/\(app.building.id)")
        #expect(show.text.contains("action=\"/grids/\(app.building.id)/move\""))
        let moved = try staff.post("/grids/\(app.building.id)/move", [("parent_id", String(second.id))])
        #expect(moved.status == 303)
        #expect(moved.header("location") == "/grids/\(app.building.id)")
        #expect(try follow(moved, with: staff).text.contains("已将「1号楼」移到「第二网格」之下"))
        let building = try #require(try grids.find(app.building.id))
        #expect(building.parentID == second.id)
        #expect(building.path == second.path + "\(building.id)/")
        #expect(try app.auditCount(action: "grid.move") == 1)

        let refused = try staff.post("/grids/\(app.estate.id)/move", [("parent_id", String(second.id))])
        #expect(refused.status == 303)
        #expect(refused.header("location") == "/grids/\(app.estate.id)")
        let page = try follow(refused, with: staff)
        #expect(page.text.contains("不能把节点移到它自己或它的下级节点之下"))
        #expect(page.text.contains("flash-error"))
        #expect(try grids.find(app.estate.id)?.path == app.estate.path)
        #expect(try app.auditCount(action: "grid.move") == 1)

        // The staff's own scope node cannot be moved, and a scoped account cannot make a root.
        let ownScope = try staff.post("/grids/\(app.community.id)/move", [("parent_id", "")])
        #expect(try follow(ownScope, with: staff).text.contains("这是您管辖范围的顶层节点，不能移动"))
        let toRoot = try staff.post("/grids/\(app.estate.id)/move", [("parent_id", "")])
        #expect(try follow(toRoot, with: staff).text.contains("请选择上级节点"))
    }

    @Test func deleteIsConfirmedAndRefusedWithTheReason() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)

        let confirm = try staff.get("/grids/\(app.estate.id)/delete")
        #expect(confirm.status == 200)
        #expect(confirm.text.contains("确认删除网格节点「阳光小区」"))
        #expect(confirm.text.contains("该节点下还有 1 个子节点，不能删除"))

        let refused = try staff.post("/grids/\(app.estate.id)/delete")
        #expect(refused.status == 303)
        #expect(refused.header("location") == "/grids/\(app.estate.id)")
        #expect(try follow(refused, with: staff).text.contains("该节点下还有 1 个子节点，不能删除"))
        #expect(try Grids(app.database).find(app.estate.id) != nil)

        let leaf = try staff.get("/grids/\(app.building.id)/delete")
        #expect(leaf.text.contains("action=\"/grids/\(app.building.id)/delete\""))
        let deleted = try staff.post("/grids/\(app.building.id)/delete")
        #expect(deleted.status == 303)
        #expect(deleted.header("location") == "/grids/\(app.grid.id)")
        #expect(try follow(deleted, with: staff).text.contains("已删除网格节点「1号楼」"))
        #expect(try Grids(app.database).find(app.building.id) == nil)
        #expect(try app.auditCount(action: "grid.delete") == 1)
        #expect(try staff.get("/grids/\(app.building.id)").status == 404)
    }

    @Test func assignAndRemoveAGridWorker() throws {
        let app = try TestApp()
        let worker = try app.makeUser("wangwg", role: .gridWorker, scope: app.grid.id)
        let outsider = try app.makeUser("liwg", role: .gridWorker, scope: app.otherCommunity.id)
        let staff = try app.signedIn(.staff)

        let show = try staff.get("/grids/\(app.building.id)")
        #expect(show.text.contains("<option value=\"\(worker.id)\">"))
        #expect(show.text.contains("测试wangwg（wangwg，管辖：第一网格）"))
        #expect(!show.text.contains("测试liwg"))

        let assigned = try staff.post("/grids/\(app.building.id)/workers", [("user_id", String(worker.id))])
        #expect(assigned.status == 303)
        let page = try follow(assigned, with: staff)
        #expect(page.text.contains("已将网格员「测试wangwg」分配到「1号楼」"))
        #expect(page.text.contains("action=\"/grids/\(app.building.id)/workers/\(worker.id)/remove\""))
        #expect(try app.auditCount(action: "grid.assign_worker") == 1)

        // The tree counts the worker (from SQL), and the node cannot be deleted while assigned.
        let tree = try staff.get("/grids")
        #expect(tree.text.contains("<td class=\"num\">1</td>"))
        let refused = try staff.post("/grids/\(app.building.id)/delete")
        #expect(try follow(refused, with: staff).text.contains("1 名网格员"))

        // A worker whose scope does not cover the node is refused.
        let wrong = try staff.post("/grids/\(app.building.id)/workers", [("user_id", String(outsider.id))])
        #expect(try follow(wrong, with: staff).text.contains("所选账号不能分配到此节点"))

        let removed = try staff.post("/grids/\(app.building.id)/workers/\(worker.id)/remove")
        #expect(removed.status == 303)
        #expect(try follow(removed, with: staff).text.contains("已将网格员「测试wangwg」从「1号楼」移除"))
        let rows = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grid_workers") }
        #expect(rows == 0)
        #expect(try app.auditCount(action: "grid.remove_worker") == 1)
    }

    @Test func adminCreatesARootAndSeesTheEmptyState() throws {
        let app = try TestApp()
        let admin = try app.signedIn(.admin)
        let created = try admin.post("/grids/new", [("name", "新建社区"), ("kind", "community"), ("parent_id", ""), ("code", "XJ-01")])
        #expect(created.status == 303)
        let id = try #require(try gridID(named: "新建社区", in: app))
        let grid = try #require(try Grids(app.database).find(id))
        #expect(grid.parentID == nil)
        #expect(grid.code == "XJ-01")
        let none = try admin.get("/grids?q=" + FormData.percentEncode("不存在的名字"))
        #expect(none.status == 200)
        #expect(none.text.contains("没有找到名称或编码包含「不存在的名字」的网格节点"))
    }
}
