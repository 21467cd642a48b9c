import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
import ResidentsFeature
import Storage
import Testing

/// Houses and resident records over the real socket: validation, duplicates, moves, merges,
/// reveals, scope, visits, and the audit trail every write leaves.
@Suite struct ResidentRecordsTests {
    // MARK: - Helpers

    /// A valid 18-digit ID number for a birth date (`19800101`) and a sequence number.
    static func idNumber(_ birth: String, _ sequence: Int, area: String = "330106") throws -> String {
        let first17 = area + birth + String(format: "%03d", sequence)
        let check = try #require(IDNumber.checkCharacter(for: Array(first17)))
        return first17 + String(check)
    }

    static func addHouse(_ app: TestApp, building: Int64? = nil, unit: String = "1", room: String) throws -> Int64 {
        try app.database.write { db in
            try db.execute(sql: "INSERT INTO houses (building_id, unit, room) VALUES (?, ?, ?)",
                           arguments: [building ?? app.building.id, unit, room])
            return db.lastInsertedRowID
        }
    }

    static func residentID(from response: TestResponse) throws -> Int64 {
        let location = try #require(response.header("location"))
        return try #require(Int64(location.replacingOccurrences(of: "/residents/", with: "")))
    }

    /// Creates a resident through the form; returns its id.
    @discardableResult
    static func create(_ client: AppClient, name: String, id: String, house: Int64, relation: String = "resident",
                       _ extra: [(String, String)] = []) throws -> Int64 {
        try client.get("/residents/new?house_id=\(house)")
        let response = try client.post("/residents/new", [("name", name), ("id_number", id), ("house_id", String(house)),
                                                           ("relation", relation)] + extra)
        guard response.status == 303 else { throw TestFailure("create \(name) answered \(response.status): \(response.text.prefix(3000))") }
        return try residentID(from: response)
    }

    static func row(_ app: TestApp, _ id: Int64) throws -> Row {
        try #require(try app.database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM residents WHERE id = ?", arguments: [id]) })
    }

    static func tagID(_ app: TestApp, _ name: String = "独居老人") throws -> Int64 {
        try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM tags WHERE name = ?", arguments: [name]) })
    }

    // MARK: - Houses

    @Test func houseRangeCreatesAndSkipsExisting() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let path = "/buildings/\(app.building.id)/houses/new"
        #expect(try staff.get(path).status == 200)
        let fields: [(String, String)] = [("mode", "range"), ("units_from", "1"), ("units_to", "2"), ("floors_from", "1"),
                                          ("floors_to", "3"), ("rooms_per_floor", "2")]
        let preview = try staff.post(path, fields + [("preview", "1")])
        #expect(preview.status == 200)
        #expect(preview.text.contains("共 12 套"))
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM houses") } == 0, "preview writes nothing")

        let created = try staff.post(path, fields)
        #expect(created.status == 303)
        #expect(created.header("location") == "/buildings/\(app.building.id)/houses")
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM houses") } == 12)
        let rooms = try app.database.read { db in try String.fetchAll(db, sql: "SELECT room FROM houses WHERE unit = '2' ORDER BY id") }
        #expect(rooms == ["101", "102", "201", "202", "301", "302"])
        #expect(try app.auditCount(action: "house.create") == 1)

        // A wider block skips the 12 that exist.
        let again = try staff.post(path, [("mode", "range"), ("units_from", "1"), ("units_to", "3"), ("floors_from", "1"),
                                          ("floors_to", "3"), ("rooms_per_floor", "2")])
        #expect(again.status == 303)
        let index = try staff.get("/buildings/\(app.building.id)/houses")
        #expect(index.status == 200)
        #expect(index.text.contains("已新建 6 套房屋，跳过已存在的 12 套"))
        #expect(index.text.contains("示范社区 / 阳光小区 / 1号楼"))
        #expect(index.text.contains("3单元"))
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM houses") } == 18)

        // Over the cap: refused with a message, nothing written.
        let tooMany = try staff.post(path, [("mode", "range"), ("units_from", "1"), ("units_to", "30"), ("floors_from", "1"),
                                            ("floors_to", "30"), ("rooms_per_floor", "4")])
        #expect(tooMany.status == 422)
        #expect(tooMany.text.contains("一次最多创建 2000 套房屋"))

        // One irregular house; the same one twice is a field error.
        let single = try staff.post(path, [("mode", "single"), ("unit", "2单元"), ("room", "3A")])
        #expect(single.status == 303)
        #expect(single.header("location")?.hasPrefix("/houses/") == true)
        let duplicate = try staff.post(path, [("mode", "single"), ("unit", "2"), ("room", "3A")])
        #expect(duplicate.status == 422)
        #expect(duplicate.text.contains("已经登记过了"))
        #expect(try app.auditCount(action: "house.create") == 3)

        // Coordinators read but do not add; other communities do not see the building.
        let coordinator = try app.signedIn(.coordinator)
        #expect(try coordinator.get("/buildings/\(app.building.id)/houses").status == 200)
        #expect(try coordinator.get(path).status == 403)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try outsider.get("/buildings/\(app.building.id)/houses").status == 404)
        #expect(try outsider.post(path, fields).status == 404)
        #expect(try staff.get("/buildings/\(app.grid.id)/houses").status == 404, "a grid is not a building")
    }

    // MARK: - Create and validation

    @Test func wrongIDNumberKeepsTheFormThenFixedSaves() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let good = try Self.idNumber("19800101", 123)
        let lastDigit = try #require(Int(String(good.last ?? "0")))
        let wrong = String(good.dropLast()) + String((lastDigit + 1) % 10)
        #expect(try staff.get("/residents/new?house_id=\(house)").status == 200)
        let refused = try staff.post("/residents/new", [("name", "张三"), ("id_number", wrong), ("phone", "13812345678"),
                                                        ("house_id", String(house)), ("relation", "owner"), ("notes", "独居，腿脚不便")])
        #expect(refused.status == 422)
        #expect(refused.text.contains("身份证号校验位不正确"))
        #expect(refused.text.contains("value=\"张三\""))
        #expect(refused.text.contains("value=\"13812345678\""))
        #expect(refused.text.contains("独居，腿脚不便"))
        #expect(refused.text.contains("<option value=\"owner\" selected>"))

        let saved = try staff.post("/residents/new", [("name", "张三"), ("id_number", good), ("phone", "138 1234 5678"),
                                                      ("house_id", String(house)), ("relation", "owner")])
        #expect(saved.status == 303)
        let id = try Self.residentID(from: saved)
        let page = try staff.get("/residents/\(id)")
        #expect(page.status == 200)
        #expect(page.text.contains(Mask.idNumber(good)))
        #expect(page.text.contains("138****5678"))
        #expect(!page.text.contains(good), "the full ID number is not on the page")
        #expect(!page.text.contains("13812345678"))
        #expect(page.text.contains("已登记居民“张三”"))
        #expect(page.text.contains("1980-01-01"))
        let row = try Self.row(app, id)
        #expect(row["sex"] as String == "M")
        #expect(row["birth_date"] as String == "1980-01-01")
        #expect(row["building_id"] as Int64 == app.building.id)
        #expect(row["phone"] as String == "13812345678")
        #expect(try app.auditCount(action: "resident.create") == 1)
    }

    @Test func idNumberIsNormalized() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        // A number whose check character is X, typed with a lowercase x.
        var withX = ""
        for sequence in 1...999 {
            let candidate = try Self.idNumber("19750505", sequence)
            if candidate.hasSuffix("X") { withX = candidate; break }
        }
        #expect(withX.hasSuffix("X"))
        let lower = try Self.create(staff, name: "李四", id: withX.lowercased(), house: house)
        #expect(try Self.row(app, lower)["id_number"] as String == withX)
        #expect(try Self.row(app, lower)["id_number_rev"] as String == String(withX.reversed()))

        // A 15-digit first-generation number gains the century and a check character.
        let old = "330106750505121"
        let converted = try Self.create(staff, name: "王五", id: old, house: house)
        let stored: String = try Self.row(app, converted)["id_number"]
        #expect(stored.count == 18)
        #expect(stored.hasPrefix("33010619750505121"))
        #expect(try Self.row(app, converted)["sex"] as String == "M")
    }

    @Test func phoneAndNameAreValidated() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        try staff.get("/residents/new")
        let response = try staff.post("/residents/new", [("name", ""), ("id_number", try Self.idNumber("19900101", 2)),
                                                         ("phone", "12345"), ("house_id", String(house)), ("relation", "resident")])
        #expect(response.status == 422)
        #expect(response.text.contains("手机号应为 11 位数字"))
        #expect(response.text.contains("请填写姓名"))
        let noHouse = try staff.post("/residents/new", [("name", "赵六"), ("id_number", try Self.idNumber("19900101", 2)),
                                                        ("relation", "resident")])
        #expect(noHouse.status == 422)
        #expect(noHouse.text.contains("请选择楼栋"))
        // The building picker finds the house by unit and room ("1单元", "101室" as typed).
        let picked = try staff.post("/residents/new", [("name", "赵六"), ("id_number", try Self.idNumber("19900101", 2)),
                                                       ("building_id", String(app.building.id)), ("unit", "1单元"), ("room", "101室"),
                                                       ("relation", "tenant")])
        #expect(picked.status == 303)
        let missing = try staff.post("/residents/new", [("name", "钱七"), ("id_number", try Self.idNumber("19900101", 4)),
                                                        ("building_id", String(app.building.id)), ("unit", "9"), ("room", "909"),
                                                        ("relation", "tenant")])
        #expect(missing.status == 422)
        #expect(missing.text.contains("还没有登记1单元") || missing.text.contains("还没有登记9单元"))
        #expect(missing.text.contains("/buildings/\(app.building.id)/houses/new?unit=9&amp;room=909"))
    }

    @Test func duplicateIDNumberLinksToTheExistingRecord() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let number = try Self.idNumber("19660606", 31)
        let first = try Self.create(staff, name: "孙八", id: number, house: house)
        let again = try staff.post("/residents/new", [("name", "孙捌"), ("id_number", number), ("house_id", String(house)),
                                                      ("relation", "resident")])
        #expect(again.status == 422)
        #expect(again.text.contains("该身份证号已登记：<a href=\"/residents/\(first)\">孙八</a>"))
        #expect(again.text.contains("value=\"孙捌\""))
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM residents") } == 1)
    }

    @Test func sameNameAndBirthDateInTheEstateWarnsFirst() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let other = try Self.addHouse(app, room: "102")
        let staff = try app.signedIn(.staff)
        let first = try Self.create(staff, name: "周九", id: try Self.idNumber("19520303", 11), house: house)
        let second: [(String, String)] = [("name", "周九"), ("id_number", try Self.idNumber("19520303", 13)),
                                          ("house_id", String(other)), ("relation", "resident")]
        let warned = try staff.post("/residents/new", second)
        #expect(warned.status == 422)
        #expect(warned.text.contains("同一小区已有同名、同出生日期的居民"))
        #expect(warned.text.contains("href=\"/residents/\(first)\""))
        #expect(warned.text.contains("name=\"confirm_duplicate\""))
        #expect(try app.auditCount(action: "resident.create") == 1)
        let saved = try staff.post("/residents/new", second + [("confirm_duplicate", "1")])
        #expect(saved.status == 303)
        #expect(try app.auditCount(action: "resident.create") == 2)
    }

    // MARK: - Edit, moves, merge

    @Test func editChangesFieldsWithAnAuditEntry() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let number = try Self.idNumber("19800808", 21)
        let id = try Self.create(staff, name: "吴十", id: number, house: house)
        let form = try staff.get("/residents/\(id)/edit")
        #expect(form.status == 200)
        #expect(form.text.contains("value=\"吴十\""))
        #expect(!form.text.contains(number), "the edit form does not reveal the ID number")
        #expect(form.text.contains(Mask.idNumber(number)))
        let tag = try Self.tagID(app, "退役军人")
        let saved = try staff.post("/residents/\(id)/edit", [("name", "吴十一"), ("id_number", number), ("phone", "13900001111"),
                                                             ("political_status", "01"), ("tags", String(tag)), ("separated", "1")])
        #expect(saved.status == 303)
        let row = try Self.row(app, id)
        #expect(row["name"] as String == "吴十一")
        #expect(row["political_status"] as String == "01")
        #expect(row["separated"] as Int64 == 1)
        let page = try staff.get("/residents/\(id)")
        #expect(page.text.contains("退役军人"))
        #expect(page.text.contains("中共党员"))
        #expect(page.text.contains("修改居民信息"))
        #expect(page.text.contains("姓名、手机号、政治面貌、人户分离、标签"))
        #expect(try app.auditCount(action: "resident.update") == 1)
        let bad = try staff.post("/residents/\(id)/edit", [("name", "吴十一"), ("id_number", "123")])
        #expect(bad.status == 422)
        #expect(bad.text.contains("身份证号应为 18 位"))

        // Empty ID and phone fields keep the stored numbers; clear_phone removes the phone.
        let kept = try staff.post("/residents/\(id)/edit", [("name", "吴十一"), ("id_number", ""), ("phone", ""), ("tags", String(tag))])
        #expect(kept.status == 303)
        #expect(try Self.row(app, id)["id_number"] as String == number)
        #expect(try Self.row(app, id)["phone"] as String? == "13900001111")
        let cleared = try staff.post("/residents/\(id)/edit", [("name", "吴十一"), ("phone", ""), ("clear_phone", "1")])
        #expect(cleared.status == 303)
        #expect((try Self.row(app, id)["phone"] as String?) == nil)
        #expect((try Self.row(app, id)["phone_rev"] as String?) == nil)

        // The quick tag form on the detail page.
        let retag = try staff.post("/residents/\(id)/tags", [("tags", String(try Self.tagID(app, "低保户")))])
        #expect(retag.status == 303)
        #expect(try staff.get("/residents/\(id)").text.contains("低保户"))
        #expect(try app.auditCount(action: "resident.update") == 4)
        #expect(try staff.post("/residents/\(id)/tags", [("tags", "999")]).status == 303)
        #expect(try app.auditCount(action: "resident.update") == 4, "an unknown tag changes nothing")
    }

    @Test func renameReplacesTheRenamedResidentsNamePiecesOnly() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let renamed = try Self.create(staff, name: "王王王", id: try Self.idNumber("19800809", 31), house: house)
        let other = try Self.create(staff, name: "王小明", id: try Self.idNumber("19800810", 33), house: house)
        func pieces(_ id: Int64) throws -> Set<String> {
            try app.database.read { db in
                Set(try String.fetchAll(db, sql: "SELECT gram FROM resident_name_grams WHERE resident_id = ?", arguments: [id]))
            }
        }
        #expect(try pieces(renamed) == ["王王"], "a piece that repeats within a name is stored once")
        let saved = try staff.post("/residents/\(renamed)/edit", [("name", "李小明"), ("id_number", "")])
        #expect(saved.status == 303)
        #expect(try pieces(renamed) == ["李小", "小明"])
        #expect(try pieces(other) == ["王小", "小明"], "the other resident's pieces, one of them shared, stay")
        #expect(try staff.get("/residents?q=" + encoded("王王")).text.contains("共 <strong>0</strong> 人"))
        #expect(try staff.get("/residents?q=" + encoded("小明")).text.contains("共 <strong>2</strong> 人"))
    }

    @Test func endingOneResidenceKeepsTheLastOne() throws {
        let app = try TestApp()
        let home = try Self.addHouse(app, room: "101")
        let owned = try Self.addHouse(app, room: "102")
        let staff = try app.signedIn(.staff)
        let id = try Self.create(staff, name: "杨二", id: try Self.idNumber("19720202", 45), house: home)
        #expect(try staff.post("/residents/\(id)/move", [("house_id", String(owned)), ("relation", "owner"), ("mode", "add")]).status == 303)
        let rows = try app.database.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM residences WHERE resident_id = ? ORDER BY id", arguments: [id])
        }
        #expect(rows.count == 2)
        let page = try staff.get("/residents/\(id)")
        #expect(page.text.contains("/residents/\(id)/residences/\(rows[1])/end"))
        let ended = try staff.post("/residents/\(id)/residences/\(rows[1])/end", [("reason", "moved")])
        #expect(ended.status == 303)
        #expect(try app.auditCount(action: "resident.end_residence") == 1)
        // The last one cannot end this way.
        let last = try staff.post("/residents/\(id)/residences/\(rows[0])/end", [("reason", "moved")])
        #expect(last.status == 303)
        let message = try staff.get("/residents/\(id)")
        #expect(message.text.contains("唯一的人屋关系"))
        #expect(try app.auditCount(action: "resident.end_residence") == 1)
        #expect(try Self.row(app, id)["building_id"] as Int64 == app.building.id)
    }

    @Test func largeScopesPickTheEstateFirst() throws {
        let app = try TestApp()
        let grids = Grids(app.database)
        let estate = try grids.createChild(of: app.community.id, name: "大型小区", kind: .estate, by: .system)
        try app.database.write { db in
            for n in 1...420 {
                _ = try Grids.create(db, name: "\(n)号楼", kind: .building, parentID: estate.id, code: nil, by: .system)
            }
        }
        let staff = try app.signedIn(.staff)
        let first = try staff.get("/residents/new")
        #expect(first.status == 200)
        #expect(first.text.contains("第一步：选择小区"))
        #expect(!first.text.contains("name=\"building_id\""))
        let second = try staff.get("/residents/new?estate_id=\(app.estate.id)")
        #expect(second.text.contains("name=\"building_id\""))
        #expect(second.text.contains(">1号楼</option>"))
        #expect(!second.text.contains(">420号楼</option>"))
        #expect(second.text.contains("name=\"estate_id\" value=\"\(app.estate.id)\""))
    }

    @Test func moveOutKeepsHistory() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let id = try Self.create(staff, name: "郑一", id: try Self.idNumber("19700101", 41), house: house)
        let confirm = try staff.get("/residents/\(id)/move-out")
        #expect(confirm.status == 200)
        #expect(confirm.text.contains("确认迁出"))
        let early = try staff.post("/residents/\(id)/move-out", [("ended_on", "2000-01-01")])
        #expect(early.status == 422)
        #expect(early.text.contains("迁出日期不能早于入住日期"))
        let done = try staff.post("/residents/\(id)/move-out", [("ended_on", "")])
        #expect(done.status == 303)
        #expect(done.header("location") == "/residents/\(id)")
        let row = try Self.row(app, id)
        #expect(row["status"] as String == "moved_out")
        #expect((row["building_id"] as Int64?) == nil)
        let residence = try #require(try app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT ended_on, end_reason FROM residences WHERE resident_id = ?", arguments: [id])
        })
        #expect(residence["end_reason"] as String == "moved_out")
        #expect(residence["ended_on"] as String == TestClock.todayText)
        let page = try staff.get("/residents/\(id)")
        #expect(page.status == 200)
        #expect(page.text.contains("已迁出"))
        #expect(page.text.contains("阳光小区 1号楼 1单元 101室"))
        #expect(try app.auditCount(action: "resident.move_out") == 1)
        // Twice: the transition table refuses it (409, with the reason), and nothing is written.
        let twice = try staff.post("/residents/\(id)/move-out", [("ended_on", "")])
        #expect(twice.status == 409)
        #expect(twice.text.contains("该居民已迁出，无需重复操作"))
        #expect(try app.auditCount(action: "resident.move_out") == 1)
        #expect(try app.timelineCount(id) == 1)
    }

    @Test func moveToAnotherHouseKeepsBothResidences() throws {
        let app = try TestApp()
        let secondBuilding = try Grids(app.database).createChild(of: app.grid.id, name: "2号楼", kind: .building, by: .system)
        let house = try Self.addHouse(app, room: "101")
        let newHouse = try Self.addHouse(app, building: secondBuilding.id, unit: "2", room: "502")
        let staff = try app.signedIn(.staff)
        let id = try Self.create(staff, name: "冯二", id: try Self.idNumber("19850505", 51), house: house,
                                 [("started_on", "2020-01-01")])
        #expect(try staff.get("/residents/\(id)/move").status == 200)
        let moved = try staff.post("/residents/\(id)/move", [("house_id", String(newHouse)), ("relation", "tenant"),
                                                             ("mode", "replace"), ("started_on", "2024-06-01")])
        #expect(moved.status == 303)
        let residences = try app.database.read { db in
            try Row.fetchAll(db, sql: "SELECT house_id, ended_on, end_reason FROM residences WHERE resident_id = ? ORDER BY id", arguments: [id])
        }
        #expect(residences.count == 2)
        #expect(residences[0]["end_reason"] as String? == "moved")
        #expect(residences[0]["ended_on"] as String? == "2024-06-01")
        #expect((residences[1]["ended_on"] as String?) == nil)
        #expect(try Self.row(app, id)["building_id"] as Int64 == secondBuilding.id)
        let page = try staff.get("/residents/\(id)")
        #expect(page.text.contains("阳光小区 1号楼 1单元 101室"))
        #expect(page.text.contains("阳光小区 2号楼 2单元 502室"))
        #expect(page.text.contains("换房"))
        #expect(try app.auditCount(action: "resident.move") == 1)

        // Owning the old house again as well: a second current residence; the home stays.
        let added = try staff.post("/residents/\(id)/move", [("house_id", String(house)), ("relation", "owner"), ("mode", "add")])
        #expect(added.status == 303)
        #expect(try Self.row(app, id)["building_id"] as Int64 == secondBuilding.id)
        #expect(try app.auditCount(action: "resident.move_in") == 1)
        let same = try staff.post("/residents/\(id)/move", [("house_id", String(house)), ("relation", "owner"), ("mode", "add")])
        #expect(same.status == 422)
        #expect(same.text.contains("无需重复登记"))
    }

    @Test func mergeFoldsTheDuplicateIntoTheKeptRecord() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let otherHouse = try Self.addHouse(app, room: "202")
        let staff = try app.signedIn(.staff)
        let tag = try Self.tagID(app)
        let kept = try Self.create(staff, name: "陈三", id: try Self.idNumber("19400101", 61), house: house)
        let duplicate = try Self.create(staff, name: "陈三", id: try Self.idNumber("19400101", 63), house: otherHouse,
                                        [("tags", String(tag)), ("phone", "13700000001"), ("confirm_duplicate", "1")])

        let worker = try app.signedIn(.gridWorker)
        let refused = try worker.get("/residents/\(kept)/merge?other=\(duplicate)")
        #expect(refused.status == 403)
        #expect(refused.text.contains("只能由社区工作人员操作"))
        #expect(try worker.post("/residents/\(kept)/merge", [("other_id", String(duplicate))]).status == 403)

        let preview = try staff.get("/residents/\(kept)/merge?other=\(duplicate)")
        #expect(preview.status == 200)
        #expect(preview.text.contains("逐项对比"))
        #expect(preview.text.contains("确认合并"))
        let candidates = try staff.get("/residents/\(kept)/merge")
        #expect(candidates.text.contains("/residents/\(kept)/merge?other=\(duplicate)"))

        let merged = try staff.post("/residents/\(kept)/merge", [("other_id", String(duplicate))])
        #expect(merged.status == 303)
        #expect(merged.header("location") == "/residents/\(kept)")
        let other = try Self.row(app, duplicate)
        #expect(other["status"] as String == "merged")
        #expect(other["merged_into_id"] as Int64? == kept)
        let keptHouses = try app.database.read { db in
            try Int64.fetchAll(db, sql: "SELECT house_id FROM residences WHERE resident_id = ? AND ended_on IS NULL ORDER BY house_id",
                               arguments: [kept])
        }
        #expect(keptHouses == [house, otherHouse])
        let ended = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT end_reason FROM residences WHERE resident_id = ?", arguments: [duplicate])
        }
        #expect(ended == ["merged"])
        #expect(try Self.row(app, kept)["phone"] as String? == "13700000001")
        let keptTags = try app.database.read { db in
            try Int64.fetchAll(db, sql: "SELECT tag_id FROM resident_tags WHERE resident_id = ?", arguments: [kept])
        }
        #expect(keptTags == [tag])
        let audit = try #require(try app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT before_json, after_json FROM audit_log WHERE action = 'resident.merge' AND entity_id = ?",
                             arguments: [kept])
        })
        let before: String = audit["before_json"]
        let after: String = audit["after_json"]
        #expect(before.contains("\"duplicate\"") && before.contains("\"kept\""))
        #expect(after.contains("\"status\":\"merged\""))
        let duplicatePage = try staff.get("/residents/\(duplicate)")
        #expect(duplicatePage.status == 200)
        #expect(duplicatePage.text.contains("已合并到 <a href=\"/residents/\(kept)\">"))
        let again = try staff.post("/residents/\(kept)/merge", [("other_id", String(duplicate))])
        #expect(again.status == 409, "again: refused with a message")
        #expect(again.text.contains("要合并的记录已经合并过了"))
        #expect(try app.timelineCount(duplicate) == 1)
        #expect(try app.auditCount(action: "resident.merge") == 2, "one entry on each record")
    }

    /// The unfiltered list's total comes from per-building counts that triggers keep; every
    /// way a resident arrives, moves or leaves must keep them equal to a fresh count.
    @Test func listTotalsFollowCreateMoveMoveOutAndMerge() throws {
        let app = try TestApp()
        let secondBuilding = try Grids(app.database).createChild(of: app.grid.id, name: "2号楼", kind: .building, by: .system)
        let house = try Self.addHouse(app, room: "101")
        let otherHouse = try Self.addHouse(app, building: secondBuilding.id, room: "201")
        let staff = try app.signedIn(.staff)
        func counts() throws -> (kept: [Int64: Int], fresh: [Int64: Int]) {
            try app.database.read { db in
                let kept = try Row.fetchAll(db, sql: "SELECT building_id, active FROM building_resident_counts WHERE active > 0")
                let fresh = try Row.fetchAll(db, sql: """
                    SELECT building_id, count(*) AS active FROM residents
                    WHERE status = 'active' AND building_id IS NOT NULL GROUP BY building_id
                    """)
                func map(_ rows: [Row]) -> [Int64: Int] {
                    Dictionary(uniqueKeysWithValues: rows.map { ($0["building_id"] as Int64, $0["active"] as Int) })
                }
                return (map(kept), map(fresh))
            }
        }
        func listTotal(_ path: String = "/residents") throws -> String? {
            let text = try staff.get(path).text
            guard let range = text.range(of: #"共 <strong>(\d+)</strong> 人"#, options: .regularExpression) else { return nil }
            return String(text[range]).filter(\.isNumber)
        }

        let a = try Self.create(staff, name: "计一", id: try Self.idNumber("19700101", 71), house: house)
        let b = try Self.create(staff, name: "计二", id: try Self.idNumber("19700101", 72), house: house)
        let c = try Self.create(staff, name: "计三", id: try Self.idNumber("19700101", 73), house: otherHouse)
        var now = try counts()
        #expect(now.kept == [app.building.id: 2, secondBuilding.id: 1])
        #expect(now.kept == now.fresh)
        #expect(try listTotal() == "3")
        #expect(try listTotal("/residents?grid=\(secondBuilding.id)") == "1")

        #expect(try staff.post("/residents/\(a)/move", [("house_id", String(otherHouse)), ("relation", "tenant"),
                                                       ("mode", "replace")]).status == 303)
        now = try counts()
        #expect(now.kept == [app.building.id: 1, secondBuilding.id: 2])
        #expect(now.kept == now.fresh)

        #expect(try staff.post("/residents/\(b)/move-out", [("ended_on", "")]).status == 303)
        now = try counts()
        #expect(now.kept == [secondBuilding.id: 2])
        #expect(now.kept == now.fresh)
        #expect(try listTotal() == "2")

        #expect(try staff.post("/residents/\(a)/merge", [("other_id", String(c))]).status == 303)
        now = try counts()
        #expect(now.kept == [secondBuilding.id: 1])
        #expect(now.kept == now.fresh)
        #expect(try listTotal() == "1")
        #expect(try listTotal("/residents?status=all") == "2", "a filter other than the area counts residents themselves")
    }

    // MARK: - Reveal and scope

    @Test func revealIsAuditedAndOnlyForRolesThatMay() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let number = try Self.idNumber("19550505", 71)
        let id = try Self.create(staff, name: "褚四", id: number, house: house, [("phone", "13600002222")])
        let page = try staff.get("/residents/\(id)")
        #expect(page.text.contains("显示完整号码"))
        let noReason = try staff.post("/residents/\(id)/reveal", [("what", "id_number")])
        #expect(noReason.status == 422)
        #expect(noReason.text.contains("请选择查看完整号码的原因"))
        #expect(!noReason.text.contains(number))
        let vague = try staff.post("/residents/\(id)/reveal", [("what", "id_number"), ("reason", "其他")])
        #expect(vague.status == 422)
        #expect(try app.auditCount(action: "resident.reveal_id") == 0)
        let revealed = try staff.post("/residents/\(id)/reveal", [("what", "id_number"), ("reason", "入户核对")])
        #expect(revealed.status == 200)
        #expect(revealed.text.contains(number))
        #expect(!revealed.text.contains("13600002222"))
        #expect(try app.auditCount(action: "resident.reveal_id") == 1)
        let phone = try staff.post("/residents/\(id)/reveal", [("what", "phone"), ("reason", "其他"), ("reason_other", "社区电话回访")])
        #expect(phone.text.contains("13600002222"))
        #expect(try app.auditCount(action: "resident.reveal_phone") == 1)
        let reasons = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT json_extract(after_json, '$.reason') FROM audit_log WHERE action LIKE 'resident.reveal%' ORDER BY id")
        }
        #expect(reasons == ["入户核对", "其他：社区电话回访"])
        // The reason shows on the record's history and in the admin's audit log.
        #expect(try staff.get("/residents/\(id)").text.contains("原因：其他：社区电话回访"))
        let admin = try app.signedIn(.admin)
        #expect(try admin.get("/admin/audit?action=resident.reveal_id").text.contains("原因：入户核对"))
        #expect(!(try staff.get("/residents/\(id)").text.contains(number)), "not kept after the response")

        let coordinator = try app.signedIn(.coordinator)
        let seen = try coordinator.get("/residents/\(id)")
        #expect(seen.status == 200)
        #expect(!seen.text.contains(number))
        #expect(!seen.text.contains("显示完整号码"))
        #expect(try coordinator.post("/residents/\(id)/reveal", [("what", "id_number"), ("reason", "入户核对")]).status == 403)
        #expect(try app.auditCount(action: "resident.reveal_id") == 1)
    }

    @Test func otherCommunitiesGetNotFound() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let number = try Self.idNumber("19600101", 81)
        let id = try Self.create(staff, name: "卫五", id: number, house: house)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try outsider.get("/residents/\(id)").status == 404)
        #expect(try outsider.get("/residents/\(id)/edit").status == 404)
        #expect(try outsider.post("/residents/\(id)/edit", [("name", "改名"), ("id_number", number)]).status == 404)
        #expect(try outsider.post("/residents/\(id)/move-out", [("ended_on", "")]).status == 404)
        #expect(try outsider.post("/residents/\(id)/reveal", [("what", "id_number"), ("reason", "入户核对")]).status == 404)
        #expect(try outsider.get("/houses/\(house)").status == 404)
        #expect(try outsider.get("/residents/new?house_id=\(house)").status == 404)
        let sneaky = try outsider.post("/residents/new", [("name", "蒋六"), ("id_number", try Self.idNumber("19600101", 83)),
                                                          ("house_id", String(house)), ("relation", "resident")])
        #expect(sneaky.status == 422)
        #expect(sneaky.text.contains("不在您的管辖范围内"))
        // The ID number exists elsewhere: said, but not who.
        let elsewhere = try Self.addHouse(app, building: try Grids(app.database).createChild(
            of: app.otherCommunity.id, name: "9号楼", kind: .building, by: .system).id, room: "901")
        let hidden = try outsider.post("/residents/new", [("name", "卫五"), ("id_number", number), ("house_id", String(elsewhere)),
                                                          ("relation", "resident")])
        #expect(hidden.status == 422)
        #expect(hidden.text.contains("已在其他社区或网格登记"))
        #expect(!hidden.text.contains("/residents/\(id)"))
        #expect(try Self.row(app, id)["name"] as String == "卫五")
        #expect(try Self.row(app, id)["status"] as String == "active")
        #expect(try app.auditCount(action: "resident.reveal_id") == 0)
    }

    @Test func gridWorkerOfGridAGetsNotFoundOnGridB() throws {
        let app = try TestApp()
        let grids = Grids(app.database)
        let gridB = try grids.createChild(of: app.estate.id, name: "第二网格", kind: .grid, by: .system)
        let buildingB = try grids.createChild(of: gridB.id, name: "2号楼", kind: .building, by: .system)
        let houseA = try Self.addHouse(app, room: "101")
        let houseB = try Self.addHouse(app, building: buildingB.id, room: "201")
        let staff = try app.signedIn(.staff)
        let inA = try Self.create(staff, name: "甲网格人", id: try Self.idNumber("19700101", 11), house: houseA)
        let inB = try Self.create(staff, name: "乙网格人", id: try Self.idNumber("19700101", 13), house: houseB)
        let workerA = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try workerA.get("/residents/\(inA)").status == 200)
        #expect(try workerA.get("/residents/\(inB)").status == 404)
        #expect(try workerA.get("/buildings/\(buildingB.id)/houses").status == 404)
        #expect(try workerA.post("/residents/\(inB)/visits", [("visited_on", "2026-11-01"), ("note", "越界")]).status == 404)
        let list = try workerA.get("/residents?status=all")
        #expect(list.text.contains("甲网格人"))
        #expect(!list.text.contains("乙网格人"))
        #expect(try workerA.get("/grids/\(gridB.id)").status == 403, "grid pages are for staff and coordinators")
    }

    // MARK: - Visits

    @Test func gridWorkerVisitsAndTheOverdueListFollows() throws {
        let app = try TestApp()
        let house = try Self.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let tag = try Self.tagID(app)
        let lonely = try Self.create(staff, name: "沈七", id: try Self.idNumber("19350707", 91), house: house,
                                     [("tags", String(tag)), ("phone", "13511112222")])
        try Self.create(staff, name: "韩八", id: try Self.idNumber("19900909", 93), house: house)

        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        let overdue = try worker.get("/residents/visits/overdue")
        #expect(overdue.status == 200)
        #expect(overdue.text.contains("沈七"))
        #expect(overdue.text.contains("从未走访"))
        #expect(overdue.text.contains("第一网格"))
        #expect(overdue.text.contains("135****2222"))
        #expect(!overdue.text.contains("13511112222"))
        #expect(!overdue.text.contains("韩八"), "not a key group")

        let page = try worker.get("/residents/\(lonely)")
        #expect(page.text.contains("登记走访"))
        let empty = try worker.post("/residents/\(lonely)/visits", [("visited_on", ""), ("note", " ")])
        #expect(empty.status == 422)
        #expect(empty.text.contains("请填写走访情况"))
        let visit = try worker.post("/residents/\(lonely)/visits", [("visited_on", ""), ("note", "身体尚好，需要代购药品")])
        #expect(visit.status == 303)
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visits WHERE resident_id = ?", arguments: [lonely]) } == 1)
        #expect(try app.auditCount(action: "visit.create") == 1)
        let after = try worker.get("/residents/visits/overdue")
        #expect(!after.text.contains("沈七"))
        #expect(try worker.get("/residents/\(lonely)").text.contains("身体尚好，需要代购药品"))

        // An old visit counts as overdue again.
        try app.database.write { db in
            try db.execute(sql: "UPDATE visits SET visited_on = ?", arguments: [ChinaDate.daysAgo(45, from: TestClock.now)])
        }
        let old = try worker.get("/residents/visits/overdue")
        #expect(old.text.contains("沈七"))
        #expect(old.text.contains(ChinaDate.daysAgo(45, from: TestClock.now)))

        let coordinator = try app.signedIn(.coordinator)
        #expect(try coordinator.get("/residents/visits/overdue").status == 403)
        #expect(try coordinator.post("/residents/\(lonely)/visits", [("note", "x")]).status == 403)
    }
}
