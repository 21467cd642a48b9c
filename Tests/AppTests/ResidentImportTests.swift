import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
@testable import ResidentsFeature
import Storage
import Testing

/// `/residents/import` over a real socket with a real database file.
@Suite struct ResidentImportTests {
    static let header = "姓名,身份证号,手机号,小区,楼栋,单元,房号,与房屋关系,政治面貌,标签,备注"

    /// An 18-digit ID number with a valid check character.
    static func id(_ first17: String) -> String {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let checks = Array("10X98765432")
        let sum = zip(first17, weights).reduce(0) { $0 + ($1.0.wholeNumberValue ?? 0) * $1.1 }
        return first17 + String(checks[sum % 11])
    }

    static let zhang = id("11010519800312061")
    static let li = id("11010519450708062")
    static let wang = id("32010619920115003")

    /// Three good rows in 阳光小区: two in the existing 1号楼 (same house), one in a new 2号楼.
    static var goodRows: [String] {
        [
            "张伟,\(zhang),13812345678,阳光小区,1号楼,1,301,产权人,中共党员,,楼栋长",
            "李秀英,\(li),,阳光小区,1号楼,1,301,,,独居老人、高龄老人,",
            "王磊,\(wang),159 0000 1111,阳光小区,2号楼,3,502,租住,共青团员,,",
        ]
    }

    static func csv(_ rows: [String], header: String = header, lineEnd: String = "\r\n", bom: Bool = false) -> [UInt8] {
        (bom ? [0xEF, 0xBB, 0xBF] : []) + Array(([header] + rows).map { $0 + lineEnd }.joined().utf8)
    }

    // MARK: Helpers

    struct Outcome {
        let post: TestResponse
        let page: TestResponse
        let jobID: Int64
    }

    /// POSTs `bytes` as the form's `file` and follows the 303 to the job page (waiting for a
    /// background job to finish).
    @discardableResult
    func upload(_ client: AppClient, _ bytes: [UInt8], dryRun: Bool, filename: String = "居民.csv",
                inlineLimit: Int? = nil, wait: Bool = true) throws -> Outcome {
        if client.csrf == nil { try client.get("/residents/import") }
        let boundary = "----jinlin\(UInt64.random(in: 1...UInt64.max))"
        var body: [UInt8] = []
        func field(_ name: String, _ value: String) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        field("_csrf", client.csrf ?? "")
        if dryRun { field("dry_run", "1") }
        if let inlineLimit { field("inline_limit", String(inlineLimit)) }
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        let post = try client.send("POST", "/residents/import", body: body,
                                   headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
        guard post.status == 303, let location = post.header("location"),
              let jobID = Int64(location.split(separator: "/").last ?? "") else {
            return Outcome(post: post, page: post, jobID: 0)
        }
        #expect(location.hasPrefix("/residents/import/jobs/"))
        var page = try client.get(location)
        if wait {
            let deadline = Date().addingTimeInterval(30)
            while page.text.contains("http-equiv=\"refresh\""), Date() < deadline {
                Thread.sleep(forTimeInterval: 0.1)
                page = try client.get(location)
            }
        }
        return Outcome(post: post, page: page, jobID: jobID)
    }

    func count(_ app: TestApp, _ table: String, _ condition: String = "1") throws -> Int {
        try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(condition)") ?? 0 }
    }

    /// The figure shown in the counts table for `label`.
    func figure(_ page: TestResponse, _ label: String) -> Int? {
        guard let range = page.text.range(of: "<th>\(label)</th><td class=\"text-right\">") else { return nil }
        let rest = page.text[range.upperBound...]
        return Int(rest.prefix { $0.isNumber })
    }

    // MARK: Tests

    @Test func formIsForStaffAndExplainsTheColumns() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let page = try staff.get("/residents/import")
        #expect(page.status == 200)
        for text in ["姓名", "身份证号", "与房屋关系", "先试导入（不保存）", "/samples/residents-sample.csv",
                     "enctype=\"multipart/form-data\"", "name=\"dry_run\" value=\"1\" checked"] {
            #expect(page.text.contains(text), "missing \(text)")
        }
        let worker = try app.signedIn(.gridWorker)
        #expect(try worker.get("/residents/import").status == 403)
        #expect(try upload(worker, Self.csv(Self.goodRows), dryRun: true).post.status == 403)
        let coordinator = try app.signedIn(.coordinator)
        #expect(try coordinator.get("/residents/import").status == 403)
        #expect(try count(app, "import_jobs") == 0)
    }

    @Test func sampleFileIsServedAndPassesADryRun() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let sample = try staff.get("/samples/residents-sample.csv")
        #expect(sample.status == 200)
        #expect(Array(sample.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let outcome = try upload(staff, sample.body, dryRun: true, filename: "residents-sample.csv")
        #expect(outcome.page.text.contains("试导入没有发现问题"), "\(outcome.page.text)")
        #expect(figure(outcome.page, "数据行数") == 5)
        #expect(figure(outcome.page, "将新增居民") == 5)
        #expect(try count(app, "residents") == 0)
    }

    @Test func dryRunShowsLineNumbersAndReasonsAndWritesNothing() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let gridsBefore = try count(app, "grids")
        let rows = Self.goodRows + [
            "赵六,110105198003120615,,阳光小区,1号楼,1,302,,,,",                     // line 5: bad check digit
            "钱七,\(Self.id("11010519900101001")),12345,阳光小区,1号楼,1,303,,,,",      // line 6: bad phone
            "孙八,\(Self.id("11010519900101003")),,幸福小区,1号楼,1,101,,,,",           // line 7: unknown estate
            "周九,\(Self.id("11010519900101005")),,阳光小区,1号楼,1,101,邻居,,,",       // line 8: unknown relation
            "吴十,\(Self.id("11010519900101007")),,阳光小区,1号楼,1,101,,党外人士,,",   // line 9: unknown status
            "郑一,\(Self.id("11010519900101009")),,阳光小区,1号楼,1,101,,,不存在的标签,", // line 10: unknown tag
            "张伟,\(Self.zhang),,阳光小区,1号楼,1,301,,,,",                           // line 11: duplicate ID
        ]
        let outcome = try upload(staff, Self.csv(rows, header: Self.header + ",籍贯"), dryRun: true)
        let page = outcome.page
        #expect(page.status == 200)
        #expect(page.text.contains("试导入发现 7 行错误"))
        for (line, reason) in [
            (5, "身份证号校验位不正确"), (6, "手机号应为 11 位数字"), (7, "小区“幸福小区”不在您的管辖范围内或不存在"),
            (8, "与房屋关系“邻居”无法识别"), (9, "政治面貌“党外人士”无法识别"), (10, "标签“不存在的标签”不存在"),
            (11, "身份证号与第 2 行重复"),
        ] {
            #expect(page.text.contains("第 \(line) 行</td><td>\(reason)"), "line \(line): \(reason)")
        }
        #expect(page.text.contains("以下列未能识别，已忽略：籍贯"))
        #expect(figure(page, "数据行数") == 10)
        #expect(figure(page, "有效行") == 3)
        #expect(figure(page, "将新增居民") == 3)
        #expect(figure(page, "将新建楼栋") == 1)
        #expect(figure(page, "将新建房屋") == 2)
        // Masked in the preview: never the full number.
        #expect(page.text.contains("1101**********061"))
        #expect(!page.text.contains(Self.zhang))
        #expect(page.text.contains("138****5678"))
        #expect(try count(app, "residents") == 0)
        #expect(try count(app, "houses") == 0)
        #expect(try count(app, "grids") == gridsBefore)
        #expect(try app.auditCount(action: "resident.import") == 0)
        let status = try app.database.read { db in try String.fetchOne(db, sql: "SELECT status FROM import_jobs") }
        #expect(status == "done")
    }

    @Test func commitCreatesResidentsHousesBuildingsAndOneAuditEntry() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let outcome = try upload(staff, Self.csv(Self.goodRows, bom: true), dryRun: false)
        #expect(outcome.page.text.contains("导入完成：新增 3 人，更新 0 人，0 人无变化"), "\(outcome.page.text)")
        #expect(try count(app, "residents") == 3)
        #expect(try count(app, "houses") == 2)
        #expect(try count(app, "residences", "ended_on IS NULL") == 3)
        #expect(try app.auditCount(action: "resident.import") == 1)
        try app.database.read { db in
            // The new building sits under the estate's first grid.
            let building = try Row.fetchOne(db, sql: "SELECT parent_id, kind FROM grids WHERE name = '2号楼'")
            #expect(building?["parent_id"] == app.grid.id)
            #expect(building?["kind"] == "building")
            let zhang = try #require(try Row.fetchOne(db, sql: """
                SELECT r.*, h.unit, h.room, s.relation FROM residents r JOIN residences s ON s.resident_id = r.id
                  JOIN houses h ON h.id = s.house_id WHERE r.id_number = ?
                """, arguments: [Self.zhang]))
            #expect(zhang["name"] == "张伟")
            #expect(zhang["sex"] == "M")
            #expect(zhang["birth_date"] == "1980-03-12")
            #expect(zhang["phone"] == "13812345678")
            #expect(zhang["phone_rev"] == "87654321831")
            #expect(zhang["political_status"] == "01")
            #expect(zhang["building_id"] == app.building.id)
            #expect(zhang["notes"] == "楼栋长")
            #expect(zhang["relation"] == "owner")
            #expect(zhang["unit"] as String == "1")
            #expect(zhang["room"] as String == "301")
            let li = try #require(try Row.fetchOne(db, sql: "SELECT * FROM residents WHERE id_number = ?", arguments: [Self.li]))
            #expect(li["political_status"] == "13", "blank political status means 群众")
            #expect(li["sex"] == "F")
            let liTags = try String.fetchAll(db, sql: """
                SELECT t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = ? ORDER BY t.name
                """, arguments: [li["id"] as Int64])
            #expect(Set(liTags) == ["独居老人", "高龄老人"])
            let relation = try String.fetchOne(db, sql: "SELECT relation FROM residences WHERE resident_id = ?", arguments: [li["id"] as Int64])
            #expect(relation == "resident", "blank relation means 常住")
            let wangPhone = try String.fetchOne(db, sql: "SELECT phone FROM residents WHERE id_number = ?", arguments: [Self.wang])
            #expect(wangPhone == "15900001111")
            // The name-gram trigger ran for imported rows.
            let grams = try Int.fetchOne(db, sql: "SELECT count(*) FROM resident_name_grams WHERE gram = '秀英'")
            #expect(grams == 1)
            let job = try Row.fetchOne(db, sql: "SELECT status, dry_run, total_rows, processed_rows FROM import_jobs")
            #expect(job?["status"] as String? == "done")
            #expect(job?["dry_run"] as Int? == 0)
            #expect(job?["total_rows"] as Int? == 3)
            #expect(job?["processed_rows"] as Int? == 3)
            let audit = try String.fetchOne(db, sql: "SELECT after_json FROM audit_log WHERE action = 'resident.import'")
            #expect(audit?.contains("\"created\":3") == true)
        }
        // The stored upload is gone once the job has run.
        let imports = URL(fileURLWithPath: app.database.path).deletingLastPathComponent().appendingPathComponent("imports")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: imports.path)) ?? []).isEmpty)
    }

    @Test func commitWithOneBadRowWritesNothing() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let gridsBefore = try count(app, "grids")
        let rows = Self.goodRows + ["坏行,123,,阳光小区,9号楼,1,101,,,,"]
        let outcome = try upload(staff, Self.csv(rows), dryRun: false)
        #expect(outcome.page.text.contains("发现 1 行错误，整个文件都没有导入"))
        #expect(outcome.page.text.contains("第 5 行</td><td>身份证号应为 18 位"))
        #expect(try count(app, "residents") == 0)
        #expect(try count(app, "houses") == 0)
        #expect(try count(app, "residences") == 0)
        #expect(try count(app, "grids") == gridsBefore)
        #expect(try app.auditCount(action: "resident.import") == 0)
    }

    @Test func reimportingTheSameFileChangesNothing() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let file = Self.csv(Self.goodRows)
        try upload(staff, file, dryRun: false)
        let tables = ["residents", "houses", "residences", "resident_tags", "grids", "resident_name_grams"]
        let before = try tables.map { try count(app, $0) }
        let dry = try upload(staff, file, dryRun: true)
        #expect(figure(dry.page, "将新增居民") == 0)
        #expect(figure(dry.page, "将更新居民") == 0)
        #expect(figure(dry.page, "无变化") == 3)
        let again = try upload(staff, file, dryRun: false)
        #expect(again.page.text.contains("导入完成：新增 0 人，更新 0 人，3 人无变化"), "\(again.page.text)")
        #expect(try tables.map { try count(app, $0) } == before)
        #expect(try app.auditCount(action: "resident.import") == 2)
    }

    @Test func updatesByIDNumber() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        try upload(staff, Self.csv(Self.goodRows), dryRun: false)
        // New phone for 张伟 (lowercase 15→18 handling aside, the same number), 王磊 moves to another house.
        let changed = [
            "张伟,\(Self.zhang),13900000000,阳光小区,1号楼,1,301,产权人,中共党员,,楼栋长",
            "李秀英,\(Self.li),,阳光小区,1号楼,1,301,,,独居老人、高龄老人,",
            "王磊,\(Self.wang),,阳光小区,2号楼,3,601,租住,,,",
        ]
        let outcome = try upload(staff, Self.csv(changed), dryRun: false)
        #expect(outcome.page.text.contains("导入完成：新增 0 人，更新 2 人，1 人无变化"), "\(outcome.page.text)")
        try app.database.read { db in
            let phone = try String.fetchOne(db, sql: "SELECT phone FROM residents WHERE id_number = ?", arguments: [Self.zhang])
            #expect(phone == "13900000000")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM residents") == 3)
            let wang = try #require(try Row.fetchOne(db, sql: "SELECT id, phone, political_status FROM residents WHERE id_number = ?", arguments: [Self.wang]))
            #expect(wang["phone"] == "15900001111", "a blank cell keeps the stored phone")
            #expect(wang["political_status"] == "03")
            let residences = try Row.fetchAll(db, sql: """
                SELECT h.room, s.ended_on IS NULL AS current, s.end_reason FROM residences s JOIN houses h ON h.id = s.house_id
                 WHERE s.resident_id = ? ORDER BY s.id
                """, arguments: [wang["id"] as Int64])
            #expect(residences.count == 2)
            let first = try #require(residences.first), last = try #require(residences.last)
            #expect(first["room"] as String == "502")
            #expect(first["current"] as Int == 0)
            #expect(first["end_reason"] as String? == "moved")
            #expect(last["room"] as String == "601")
            #expect(last["current"] as Int == 1)
        }
    }

    @Test func homeRelationsMoveAndOwnershipStays() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let owner = "张伟,\(Self.zhang),,阳光小区,1号楼,1,301,产权人,,,"
        try upload(staff, Self.csv([owner]), dryRun: false)
        // Living in another building as a tenant: the ownership stays, the home is the new building.
        let tenant = try upload(staff, Self.csv(["张伟,\(Self.zhang),,阳光小区,2号楼,3,502,租住,,,"]), dryRun: false)
        #expect(tenant.page.text.contains("更新 1 人"), "\(tenant.page.text)")
        let again = try upload(staff, Self.csv([owner]), dryRun: false)
        #expect(again.page.text.contains("1 人无变化"), "\(again.page.text)")
        try app.database.read { db in
            let current = try String.fetchAll(db, sql: """
                SELECT s.relation || '@' || h.room FROM residences s JOIN houses h ON h.id = s.house_id
                 WHERE s.ended_on IS NULL ORDER BY s.id
                """)
            #expect(current == ["owner@301", "tenant@502"])
            let building = try Int64.fetchOne(db, sql: "SELECT building_id FROM residents")
            let second = try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE name = '2号楼'")
            #expect(building == second)
            let floor = try Int.fetchOne(db, sql: "SELECT floor FROM houses WHERE room = '502'")
            #expect(floor == 5)
        }
        // Moved out on the record page, then imported again: active again, at the row's house.
        try app.database.write { db in
            try db.execute(sql: "UPDATE residences SET ended_on = started_on, end_reason = 'moved_out' WHERE ended_on IS NULL")
            try db.execute(sql: "UPDATE residents SET status = 'moved_out', building_id = NULL")
        }
        let back = try upload(staff, Self.csv(["张伟,\(Self.zhang),,阳光小区,1号楼,1,301,常住,,,"]), dryRun: false)
        #expect(back.page.text.contains("更新 1 人"), "\(back.page.text)")
        let row = try app.database.read { db in try Row.fetchOne(db, sql: "SELECT status, building_id FROM residents") }
        #expect(row?["status"] as String? == "active")
        #expect(row?["building_id"] as Int64? == app.building.id)
    }

    @Test func estatesOutsideTheScopeAreRowErrors() throws {
        let app = try TestApp()
        let grids = Grids(app.database)
        try grids.createChild(of: app.otherCommunity.id, name: "远方小区", kind: .estate, by: .system)
        // The same estate name in both communities: 社区 tells them apart.
        try grids.createChild(of: app.otherCommunity.id, name: "阳光小区", kind: .estate, by: .system)
        let staff = try app.signedIn(.staff)
        let rows = [
            "张伟,\(Self.zhang),,远方小区,1号楼,1,301,,,,,",
            "李秀英,\(Self.li),,阳光小区,1号楼,1,301,,,,,另一社区",
            "王磊,\(Self.wang),,阳光小区,1号楼,1,302,,,,,示范社区",
        ]
        let outcome = try upload(staff, Self.csv(rows, header: Self.header + ",社区"), dryRun: false)
        #expect(outcome.page.text.contains("第 2 行</td><td>小区“远方小区”不在您的管辖范围内或不存在"))
        #expect(outcome.page.text.contains("第 3 行</td><td>社区“另一社区”的小区“阳光小区”不在您的管辖范围内或不存在"))
        #expect(!outcome.page.text.contains("第 4 行</td>"))
        #expect(try count(app, "residents") == 0)

        // An admin-scoped view: staff of 另一社区 may import into its estates but cannot see this job.
        let other = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try other.get("/residents/import/jobs/\(outcome.jobID)").status == 404)
        let colleague = try app.signedIn(.staff)
        #expect(try colleague.get("/residents/import/jobs/\(outcome.jobID)").status == 200)
        let ambiguous = try upload(other, Self.csv(["张伟,\(Self.zhang),,阳光小区,1号楼,1,301,,,,"]), dryRun: true)
        #expect(ambiguous.page.text.contains("试导入没有发现问题"), "one 阳光小区 in 另一社区's scope")
    }

    @Test func gb18030FileKeepsChineseNames() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let utf8 = Self.csv(Self.goodRows)
        let gb = try Self.iconv(utf8, to: "GB18030")
        #expect(gb != utf8)
        let outcome = try upload(staff, gb, dryRun: false, filename: "居民-gbk.csv")
        #expect(outcome.page.text.contains("GB18030"))
        #expect(outcome.page.text.contains("导入完成：新增 3 人"), "\(outcome.page.text)")
        let names = try app.database.read { db in try String.fetchAll(db, sql: "SELECT name FROM residents ORDER BY name") }
        #expect(Set(names) == ["张伟", "李秀英", "王磊"])
        let tags = try count(app, "resident_tags")
        #expect(tags == 2)
    }

    @Test func tabSeparatedFileWithLFLineEnds() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let rows = Self.goodRows.map { $0.replacingOccurrences(of: ",", with: "\t") }
        let outcome = try upload(staff, Self.csv(rows, header: Self.header.replacingOccurrences(of: ",", with: "\t"), lineEnd: "\n"),
                                 dryRun: false)
        #expect(outcome.page.text.contains("制表符"))
        #expect(outcome.page.text.contains("导入完成：新增 3 人"), "\(outcome.page.text)")
    }

    @Test func quotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let rows = [
            "\"张伟\",\(Self.zhang),,阳光小区,1号楼,1,301,,,\"独居老人,低保户\",\"住户说：\"\"周末在家\"\"，\r\n请上午联系\"",
            "李秀英,\(Self.li),,阳光小区,\"1号楼\",1,301,,,,",
            "王磊,123,,阳光小区,1号楼,1,301,,,,",
        ]
        let dry = try upload(staff, Self.csv(rows), dryRun: true)
        // The quoted line break makes 张伟's record span lines 2–3, so the bad row is on line 5.
        #expect(dry.page.text.contains("第 5 行</td><td>身份证号应为 18 位"), "\(dry.page.text)")
        let fixed = Array(rows.prefix(2))
        let outcome = try upload(staff, Self.csv(fixed), dryRun: false)
        #expect(outcome.page.text.contains("导入完成：新增 2 人"))
        let notes = try app.database.read { db in
            try String.fetchOne(db, sql: "SELECT notes FROM residents WHERE id_number = ?", arguments: [Self.zhang])
        }
        #expect(notes == "住户说：\"周末在家\"，\r\n请上午联系")
        #expect(try count(app, "resident_tags") == 2)
    }

    @Test func missingColumnsAndUndecodableFilesAreClearErrors() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let missing = try upload(staff, Array("姓名,手机号\r\n张伟,13800000000\r\n".utf8), dryRun: true)
        #expect(missing.page.text.contains("表头缺少必填列：身份证号、小区、楼栋、单元、房号"))
        let binary = try upload(staff, [0xFF, 0x00, 0x81, 0x30, 0xC0, 0xC1, 0x80, 0x80], dryRun: true)
        #expect(binary.page.text.contains("无法识别文件的编码"))
        let headerOnly = try upload(staff, Self.csv([]), dryRun: false)
        #expect(headerOnly.page.text.contains("没有居民数据"))
        let noFile = try upload(staff, [], dryRun: true)
        #expect(noFile.post.status == 422)
        #expect(noFile.post.text.contains("请选择要导入的 CSV 文件"))
    }

    /// `count` rows with distinct valid ID numbers in 阳光小区's 1号楼–5号楼, named 居民0, 居民1, ….
    static func manyRows(_ count: Int) -> [String] {
        (0..<count).map { index in
            let first17 = String(format: "33010619%02d%02d%02d%03d", 50 + index / 10_080 % 40, 1 + index / 840 % 12,
                                 1 + index / 30 % 28, index % 30 * 2 + 1)
            return "居民\(index),\(id(first17)),,阳光小区,\(1 + index % 5)号楼,\(1 + index % 3),\(100 + index % 40),,,,"
        }
    }

    @Test func largeFileRunsInTheBackgroundAndTheJobPageReachesDone() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let rows = Self.manyRows(12_000) // enough to be checked in slices side by side
        let outcome = try upload(staff, Self.csv(rows), dryRun: false, inlineLimit: 0, wait: false)
        #expect(outcome.post.status == 303)
        let location = "/residents/import/jobs/\(outcome.jobID)"
        var page = outcome.page
        var sawProgress = page.text.contains("http-equiv=\"refresh\"")
        let deadline = Date().addingTimeInterval(60)
        while page.text.contains("http-equiv=\"refresh\""), Date() < deadline {
            sawProgress = true
            #expect(page.text.contains("本页每 2 秒自动刷新"))
            Thread.sleep(forTimeInterval: 0.05)
            page = try staff.get(location)
        }
        #expect(page.text.contains("导入完成：新增 12000 人"), "\(page.text)")
        #expect(sawProgress || page.text.contains("导入完成"))
        #expect(try count(app, "residents") == 12_000)
        #expect(try count(app, "residences", "ended_on IS NULL") == 12_000)
        #expect(try count(app, "grids", "kind = 'building'") == 5)
        try app.database.read { db in
            // New residents are numbered in the byte order of their names ("居民10" before "居民2"),
            // and each got the row of its own line.
            let rows = try Row.fetchAll(db, sql: "SELECT name, id_number FROM residents ORDER BY id")
            let names = rows.map { $0["name"] as String }
            #expect(names == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            let lines = Dictionary(uniqueKeysWithValues: Self.manyRows(12_000).map { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return (String(fields[0]), String(fields[1]))
            })
            #expect(rows.allSatisfy { lines[$0["name"] as String] == $0["id_number"] as String })
            // The stored report says where the time went, phase by phase, up to the commit.
            let json = try String.fetchOne(db, sql: "SELECT report_json FROM import_jobs WHERE id = ?", arguments: [outcome.jobID])
            let phases = try #require(ImportReport.decode(json)).phases
            #expect(phases.map(\.phase) == ["read", "check", "plan", "houses", "sort", "stage", "copy residents",
                                             "copy residences and tags", "updates"])
            #expect(phases.allSatisfy { $0.seconds >= 0 } && phases.reduce(0) { $0 + $1.seconds } > 0)
        }
        // Reloading the finished job shows the same report.
        #expect(try staff.get(location).text.contains("导入完成：新增 12000 人"))
        // Another staff member's own imports list does not include it; a stranger gets 404.
        let stranger = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try stranger.get(location).status == 404)
    }

    /// Rows are checked in slices side by side for a large file: errors still carry their own
    /// line numbers, in order, and a repeated ID number is found across slices.
    @Test func largeDryRunReportsRowsOfEverySliceInOrder() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        var rows = Self.manyRows(12_000)
        let duplicate = rows[2].split(separator: ",")[1]
        for index in [10, 4_000, 8_500, 11_990] { rows[index] = "坏行\(index),110105198003120615,,阳光小区,1号楼,1,101,,,," }
        rows[11_500] = "重复,\(duplicate),,阳光小区,1号楼,1,101,,,,"
        let page = try upload(staff, Self.csv(rows), dryRun: true).page
        #expect(page.text.contains("试导入发现 5 行错误"), "\(page.text.prefix(2000))")
        let expected = [(12, "身份证号校验位不正确"), (4_002, "身份证号校验位不正确"), (8_502, "身份证号校验位不正确"),
                        (11_502, "身份证号与第 4 行重复"), (11_992, "身份证号校验位不正确")]
        var last = page.text.startIndex
        for (line, reason) in expected {
            let found = page.text.range(of: "第 \(line) 行</td><td>\(reason)")
            #expect(found != nil, "line \(line): \(reason)")
            if let found {
                #expect(found.lowerBound > last, "line \(line) in order")
                last = found.lowerBound
            }
        }
        #expect(figure(page, "有效行") == 11_995)
        #expect(try count(app, "residents") == 0)
    }

    static func iconv(_ bytes: [UInt8], to encoding: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
        process.arguments = ["-f", "UTF-8", "-t", encoding]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("iconv failed") }
        return [UInt8](data)
    }
}
