import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
@testable import ResidentsFeature
import Storage
import Testing

/// Residents written straight into the database (the record pages are built elsewhere).
struct ResidentFixture {
    let app: TestApp
    private static let counter = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }

    /// A valid 18-character ID number; `checkX` picks a sequence whose check character is X.
    static func idNumber(birth: String = "19800101", area: String = "330102", checkX: Bool = false) -> String {
        while true {
            let sequence = String(format: "%03d", counter.next() % 1000)
            let first17 = area + birth + sequence
            guard let check = IDNumber.checkCharacter(for: Array(first17)) else { continue }
            if checkX && check != "X" { continue }
            if !checkX && check == "X" { continue }
            return first17 + String(check)
        }
    }

    @discardableResult
    func house(building: Int64? = nil, unit: String = "1", room: String = "101") throws -> Int64 {
        try app.database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO houses (building_id, unit, room) VALUES (?, ?, ?)",
                           arguments: [building ?? app.building.id, unit, room])
            return try Int64.fetchOne(db, sql: "SELECT id FROM houses WHERE building_id = ? AND unit = ? AND room = ?",
                                      arguments: [building ?? app.building.id, unit, room]) ?? 0
        }
    }

    @discardableResult
    func resident(_ name: String, idNumber: String? = nil, birth: String = "19800101", phone: String? = nil,
                  house: Int64? = nil, relation: String = "owner", political: String = "13", tags: [String] = [],
                  movedOut: Bool = false, notes: String = "") throws -> (id: Int64, idNumber: String) {
        let number = idNumber ?? Self.idNumber(birth: birth)
        let houseID = try house ?? self.house()
        let id = try app.database.write { db -> Int64 in
            let building = try Int64.fetchOne(db, sql: "SELECT building_id FROM houses WHERE id = ?", arguments: [houseID])
            let birthDate = String(number.dropFirst(6).prefix(8))
            let stored = "\(birthDate.prefix(4))-\(birthDate.dropFirst(4).prefix(2))-\(birthDate.suffix(2))"
            let sequence = Int(String(number.dropFirst(14).prefix(3))) ?? 0
            try db.execute(sql: """
                INSERT INTO residents (name, id_number, id_number_rev, sex, birth_date, phone, phone_rev, political_status,
                                       status, building_id, notes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, number, String(number.reversed()), sequence % 2 == 1 ? "M" : "F", stored, phone,
                                 phone.map { String($0.reversed()) }, political, movedOut ? "moved_out" : "active",
                                 movedOut ? nil : building, notes])
            let id = db.lastInsertedRowID
            try db.execute(sql: """
                INSERT INTO residences (resident_id, house_id, relation, started_on, ended_on, end_reason)
                VALUES (?, ?, ?, '2020-01-01', ?, ?)
                """, arguments: [id, houseID, relation, movedOut ? "2024-06-30" : nil, movedOut ? "moved_out" : nil])
            for tag in tags {
                try db.execute(sql: "INSERT INTO resident_tags (resident_id, tag_id) SELECT ?, id FROM tags WHERE name = ?",
                               arguments: [id, tag])
            }
            return id
        }
        return (id, number)
    }

    func tagID(_ name: String) throws -> Int64 {
        try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM tags WHERE name = ?", arguments: [name]) ?? 0 }
    }

    /// A second estate of the test community: 幸福小区 → 第二网格 → 2号楼.
    func secondEstate() throws -> (estate: Grid, grid: Grid, building: Grid) {
        let grids = Grids(app.database)
        let estate = try grids.createChild(of: app.community.id, name: "幸福小区", kind: .estate, by: .system)
        let grid = try grids.createChild(of: estate.id, name: "第二网格", kind: .grid, by: .system)
        let building = try grids.createChild(of: grid.id, name: "2号楼", kind: .building, by: .system)
        return (estate, grid, building)
    }
}

extension TestResponse {
    /// The names linked from the list's rows.
    var residentNames: [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let range = rest.range(of: "<td class=\"nowrap\"><a href=\"/residents/") {
            rest = rest[range.upperBound...]
            guard let open = rest.firstIndex(of: ">"), let close = rest.range(of: "</a>") else { break }
            names.append(String(rest[rest.index(after: open)..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return names.sorted()
    }
}

func encoded(_ text: String) -> String { FormDataEncoding.encode(text) }

enum FormDataEncoding {
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

@Suite struct ResidentSearchTests {
    @Test func findsByNameSubstringSurnamePhoneTailAndIDTail() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        try f.resident("王芳", phone: "13800005678")
        try f.resident("李小明")
        try f.resident("王建国")
        let x = try f.resident("赵敏", idNumber: ResidentFixture.idNumber(birth: "19751231", checkX: true))
        let client = try app.signedIn(.staff)

        #expect(try client.get("/residents?q=" + encoded("王芳")).residentNames == ["王芳"])
        #expect(try client.get("/residents?q=" + encoded("小明")).residentNames == ["李小明"])
        #expect(try client.get("/residents?q=" + encoded("王建国")).residentNames == ["王建国"])
        #expect(try client.get("/residents?q=" + encoded("王")).residentNames == ["王建国", "王芳"])
        #expect(try client.get("/residents?q=5678").residentNames == ["王芳"])
        #expect(try client.get("/residents?q=" + encoded("１３８００００５６７８")).residentNames == ["王芳"])
        let tail4 = String(x.idNumber.suffix(4)).lowercased()
        let tail6 = String(x.idNumber.suffix(6)).lowercased()
        #expect(tail4.hasSuffix("x"))
        #expect(try client.get("/residents?q=" + tail4).residentNames == ["赵敏"])
        #expect(try client.get("/residents?q=" + tail6).status == 400, "more than the visible tail")
        #expect(try client.get("/residents?q=" + encoded("张三")).residentNames == [])
        let none = try client.get("/residents?q=" + encoded("张三"))
        #expect(none.text.contains("没有符合条件的居民"))
        #expect(none.text.contains("value=\"张三\""))
    }

    /// With `serverTiming` on, every page says where its time went; without it, nothing.
    @Test func serverTimingHeaderNamesThePhases() throws {
        func phases(_ response: TestResponse) throws -> [String: Double] {
            let value = try #require(response.header("Server-Timing"))
            var out: [String: Double] = [:]
            for part in value.split(separator: ",") {
                let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: ";")
                let name = String(try #require(pieces.first))
                let dur = try #require(pieces.dropFirst().first { $0.hasPrefix("dur=") })
                guard let milliseconds = Double(String(dur.dropFirst(4))) else { throw TestFailure("not a duration: \(part)") }
                out[name] = milliseconds
            }
            return out
        }
        let plain = try TestApp()
        try ResidentFixture(app: plain).resident("王芳")
        #expect(try plain.signedIn(.staff).get("/residents").header("Server-Timing") == nil)

        let app = try TestApp { $0.serverTiming = true }
        try ResidentFixture(app: app).resident("王芳")
        let list = try phases(app.signedIn(.staff).get("/residents"))
        #expect(Set(list.keys) == ["session", "query", "render", "total"])
        for phase in ["session", "query", "render"] {
            #expect(list[phase, default: 0] > 0, "\(phase) measured")
        }
        #expect(list["total", default: 0] >= list["session", default: 0] + list["query", default: 0] + list["render", default: 0])
        // Signed out: no session found, no query measured, the login page rendered.
        let login = try phases(AppClient(port: app.port).get("/login"))
        #expect(login["session"] == 0 && login["query"] == 0)
        #expect(login["render", default: 0] > 0)
    }

    @Test func findsByAddressParts() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let second = try f.secondEstate()
        try f.resident("王芳", house: f.house(unit: "3", room: "301"))
        try f.resident("李四", house: f.house(unit: "1", room: "102"))
        try f.resident("张三", house: f.house(building: second.building.id, unit: "3", room: "302"))
        let client = try app.signedIn(.staff)

        #expect(try client.get("/residents?q=" + encoded("阳光小区")).residentNames == ["李四", "王芳"])
        #expect(try client.get("/residents?q=" + encoded("幸福")).residentNames == ["张三"])
        #expect(try client.get("/residents?q=" + encoded("2号楼")).residentNames == ["张三"])
        #expect(try client.get("/residents?q=" + encoded("3单元")).residentNames == ["张三", "王芳"])
        #expect(try client.get("/residents?q=301").residentNames == ["王芳"])
        #expect(try client.get("/residents?q=" + encoded("1号楼301")).residentNames == ["王芳"])
        #expect(try client.get("/residents?q=" + encoded("3-302")).residentNames == ["张三"])
        #expect(try client.get("/residents?q=" + encoded("阳光小区 3单元")).residentNames == ["王芳"])
        let page = try client.get("/residents?q=" + encoded("王芳"))
        #expect(page.text.contains("示范社区 / 阳光小区 / 1号楼 / 3单元 / 301室"))
        #expect(page.text.contains("产权人"))
        // A grid worker's scope is one grid: its estate and community are above it, and their
        // names still find everyone in the grid; a grid name elsewhere finds no one.
        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try worker.get("/residents?q=" + encoded("阳光小区")).residentNames == ["李四", "王芳"])
        #expect(try worker.get("/residents?q=" + encoded("示范社区")).residentNames == ["李四", "王芳"])
        #expect(try worker.get("/residents?q=" + encoded("第一网格")).residentNames == ["李四", "王芳"])
        #expect(try worker.get("/residents?q=" + encoded("幸福")).residentNames == [])
        #expect(try worker.get("/residents?q=" + encoded("阳光小区 3单元")).residentNames == ["王芳"])
    }

    @Test func filtersByTagAgeGridPoliticalStatusAndRelation() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let second = try f.secondEstate()
        // Ages 94–95, 9–10 and 54–55 on whatever day the clock says.
        let year = TestClock.today.year
        try f.resident("老王", birth: "\(year - 95)0101", tags: ["独居老人", "高龄老人"])
        try f.resident("小李", birth: "\(year - 10)0601", relation: "tenant")
        try f.resident("党员张", birth: "\(year - 55)0101", house: f.house(building: second.building.id), political: "01")
        let client = try app.signedIn(.staff)

        let tag = try f.tagID("独居老人")
        let tagged = try client.get("/residents?tag=\(tag)")
        #expect(tagged.residentNames == ["老王"])
        #expect(tagged.text.contains("独居老人"))
        #expect(try client.get("/residents?age=80%2B").residentNames == ["老王"])
        #expect(try client.get("/residents?age=0-17").residentNames == ["小李"])
        #expect(try client.get("/residents?age=18-59").residentNames == ["党员张"])
        #expect(try client.get("/residents?grid=\(second.estate.id)").residentNames == ["党员张"])
        #expect(try client.get("/residents?grid=\(app.grid.id)").residentNames == ["小李", "老王"])
        #expect(try client.get("/residents?political_status=01").residentNames == ["党员张"])
        #expect(try client.get("/residents?relation=tenant").residentNames == ["小李"])
        // A grid outside the scope matches nothing rather than widening the list.
        let outside = try client.get("/residents?grid=\(app.otherCommunity.id)")
        #expect(outside.residentNames == [])
        #expect(outside.text.contains("不在您的管辖范围内"))
        // The form keeps its values.
        let kept = try client.get("/residents?political_status=01&age=80%2B&sort=name")
        #expect(kept.text.contains("<option value=\"01\" selected>中共党员</option>"))
        #expect(kept.text.contains("<option value=\"80+\" selected>"))
        #expect(kept.text.contains("<option value=\"name\" selected>"))
        #expect(kept.text.contains("/residents/export.csv?age=80%2B&amp;political_status=01&amp;sort=name"))
    }

    /// The grid filter lists a small scope whole, and a large one down to the grids only, with
    /// a building named by the link kept and selected.
    @Test func gridFilterListsBuildingsOnlyInSmallScopes() throws {
        let app = try TestApp()
        let worker = try app.signedIn(.gridWorker)
        let small = try worker.get("/residents")
        #expect(small.text.contains("<option value=\"\(app.building.id)\">　　　1号楼（楼栋）</option>"), "a small scope lists its buildings")
        let grids = Grids(app.database)
        var buildings: [Grid] = []
        for number in 2...45 {
            buildings.append(try grids.createChild(of: app.grid.id, name: "\(number)号楼", kind: .building, by: .system))
        }
        let staff = try app.signedIn(.staff)
        let page = try staff.get("/residents")
        #expect(page.text.contains("<option value=\"\(app.grid.id)\">　　第一网格（网格）</option>"))
        #expect(!page.text.contains("号楼（楼栋）"), "45 buildings are not listed")
        let chosen = try staff.get("/residents?grid=\(buildings[9].id)")
        #expect(chosen.text.contains("<option value=\"\(buildings[9].id)\" selected>　　　11号楼（楼栋）</option>"))
        #expect(!chosen.text.contains("12号楼（楼栋）"))
    }

    @Test func movedOutResidentsAreFoundOnlyWithTheStatusFilter() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        try f.resident("在住")
        try f.resident("迁出者", phone: "13912341234", movedOut: true)
        let client = try app.signedIn(.staff)

        #expect(try client.get("/residents").residentNames == ["在住"])
        #expect(try client.get("/residents?q=1234").residentNames == [])
        #expect(try client.get("/residents?status=moved_out").residentNames == ["迁出者"])
        #expect(try client.get("/residents?status=moved_out&q=1234").residentNames == ["迁出者"])
        let all = try client.get("/residents?status=all")
        #expect(all.residentNames == ["在住", "迁出者"])
        #expect(all.text.contains("已迁出"))
        #expect(all.text.contains("原住址"))
        // Out of scope, a moved-out resident stays hidden.
        let other = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try other.get("/residents?status=moved_out").residentNames == [])
    }

    @Test func paginatesFiftyAPageWithTheTotal() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        for i in 0..<53 { try f.resident("居民\(String(format: "%02d", i))", house: f.house(room: String(101 + i))) }
        let client = try app.signedIn(.coordinator)
        let first = try client.get("/residents?sort=name")
        #expect(first.residentNames.count == 50)
        #expect(first.text.contains("共 <strong>53</strong> 人"))
        #expect(first.text.contains("第 1 / 2 页，共 53 条"))
        #expect(first.text.contains("href=\"/residents?sort=name&amp;page=2\""))
        let second = try client.get("/residents?sort=name&page=2")
        #expect(second.residentNames == ["居民50", "居民51", "居民52"])
        #expect(second.text.contains("第 2 / 2 页"))
    }

    @Test func listMasksIDNumbersAndPhones() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let r = try f.resident("王芳", phone: "13812345678")
        let client = try app.signedIn(.staff)
        let page = try client.get("/residents")
        #expect(page.status == 200)
        #expect(!page.text.contains(r.idNumber))
        #expect(!page.text.contains("13812345678"))
        #expect(page.text.contains(Mask.idNumber(r.idNumber)))
        #expect(page.text.contains("138****5678"))
        #expect(page.text.contains("href=\"/residents/\(r.id)\""))
        // Staff may add and import; a coordinator may only export.
        #expect(page.text.contains("href=\"/residents/new\"") && page.text.contains("href=\"/residents/import\""))
        let coordinator = try app.signedIn(.coordinator).get("/residents")
        #expect(!coordinator.text.contains("href=\"/residents/new\""))
        #expect(coordinator.text.contains("导出 CSV"))
        let worker = try app.signedIn(.gridWorker).get("/residents")
        #expect(worker.text.contains("href=\"/residents/new\"") && !worker.text.contains("导出 CSV"))
    }

    @Test func scopeLimitsTheListAndTheExport() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let second = try f.secondEstate()
        try f.resident("一网格", phone: "13800001111")
        try f.resident("二网格", phone: "13800002222", house: f.house(building: second.building.id))

        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        let page = try outsider.get("/residents")
        #expect(page.residentNames == [])
        #expect(page.text.contains("共 <strong>0</strong> 人"))
        #expect(try outsider.get("/residents?q=" + encoded("一网格")).residentNames == [])
        let csv = try outsider.get("/residents/export.csv")
        #expect(csv.status == 200)
        #expect(!csv.text.contains("一网格") && !csv.text.contains("二网格"))
        #expect(csv.text.split(separator: "\r\n").count == 1)

        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try worker.get("/residents").residentNames == ["一网格"])
        #expect(try worker.get("/residents?grid=\(second.estate.id)").residentNames == [])
        #expect(try worker.get("/residents?q=2222").residentNames == [])

        #expect(try app.signedIn(.member).get("/residents").status == 403)
        #expect(try app.signedIn(.gridWorker).get("/residents/export.csv").status == 403)
    }

    @Test func exportIsExcelFriendlyCSVMaskedByRoleAndAudited() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let r = try f.resident("王芳", phone: "13812345678", house: f.house(unit: "3", room: "301"), political: "01",
                               tags: ["独居老人", "残疾人"], notes: "行动不便, 需\"上门\"")
        try f.resident("李四", house: f.house(unit: "1", room: "101"), relation: "tenant")
        try f.resident("迁出", movedOut: true)

        let coordinator = try app.signedIn(.coordinator)
        let masked = try coordinator.get("/residents/export.csv")
        #expect(masked.status == 200)
        #expect(Array(masked.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(masked.header("content-type") == "text/csv; charset=utf-8")
        let disposition = try #require(masked.header("content-disposition"))
        #expect(disposition.hasPrefix("attachment; filename=\"residents-") && disposition.contains(".csv\""))
        #expect(disposition.contains("filename*=UTF-8''%E5%B1%85%E6%B0%91%E5%90%8D%E5%8D%95-"))
        let text = String(decoding: masked.body.dropFirst(3), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.first == "姓名,身份证号,手机号,社区,小区,楼栋,单元,房号,与房屋关系,政治面貌,标签,备注")
        #expect(lines.count == 4 && lines.last == "")
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(lines.contains("王芳,\(Mask.idNumber(r.idNumber)),138****5678,示范社区,阳光小区,1号楼,3,301,产权人,中共党员,独居老人、残疾人,\"行动不便, 需\"\"上门\"\"\""))
        #expect(lines.contains { $0.hasPrefix("李四,") && $0.contains(",1,101,租住,群众,") })
        #expect(!text.contains(r.idNumber) && !text.contains("13812345678"))
        #expect(!text.contains("迁出"))
        #expect(try app.auditCount(action: "resident.export") == 1)

        let staff = try app.signedIn(.staff)
        // Staff too get masked numbers unless they ask for full ones.
        let plain = try staff.get("/residents/export.csv?q=" + encoded("王芳")).text
        #expect(plain.contains(Mask.idNumber(r.idNumber)) && !plain.contains(r.idNumber) && !plain.contains("13812345678"))
        #expect(try app.auditCount(action: "resident.export") == 2)

        let full = try staff.get("/residents/export.csv?q=" + encoded("王芳") + "&full=1&reason=" + encoded("核对低保名单"))
        let fullText = full.text
        #expect(fullText.contains(r.idNumber) && fullText.contains("13812345678"))
        #expect(!fullText.contains("李四"))
        #expect(try app.auditCount(action: "resident.reveal_export") == 1)
        let entry = try app.database.read { db in
            try String.fetchOne(db, sql: "SELECT after_json FROM audit_log WHERE action = 'resident.reveal_export' ORDER BY id DESC LIMIT 1")
        }
        #expect(entry?.contains("\"masked\":false") == true)
        #expect(entry?.contains("\"reason\":\"核对低保名单\"") == true)
        #expect(entry?.contains("\"residents\":1") == true)
        #expect(entry?.contains("王芳") == true)

        let movedOut = try staff.get("/residents/export.csv?status=moved_out").text
        #expect(movedOut.contains("迁出,") && movedOut.components(separatedBy: "\r\n").count == 3)
    }

    /// Without the full-values option every role that may export gets masked numbers; the
    /// option needs a reason and a role that may reveal, and a refusal writes no audit entry.
    @Test func exportIsMaskedForEveryRoleUnlessFullValuesAreAskedFor() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let r = try f.resident("王芳", phone: "13812345678", house: f.house(unit: "3", room: "301"))
        for role in Role.allCases {
            let client = try app.signedIn(role)
            let csv = try client.get("/residents/export.csv")
            guard Permission.exportResidents.roles.contains(role) else {
                #expect(csv.status == 403, "\(role)")
                continue
            }
            #expect(csv.status == 200, "\(role)")
            #expect(csv.text.contains("王芳,\(Mask.idNumber(r.idNumber)),138****5678,"), "\(role)")
            #expect(!csv.text.contains(r.idNumber) && !csv.text.contains("13812345678"), "\(role)")
            // Asking for full values: without a reason 422, from a role that may not reveal 403.
            let noReason = try client.get("/residents/export.csv?full=1&reason=")
            let withReason = try client.get("/residents/export.csv?full=1&reason=" + encoded("核对"))
            if Permission.revealPersonalData.roles.contains(role) {
                #expect(noReason.status == 422, "\(role)")
                #expect(withReason.status == 200 && withReason.text.contains(r.idNumber), "\(role)")
            } else {
                #expect(noReason.status == 403 && withReason.status == 403, "\(role)")
            }
        }
        let exporters = Permission.exportResidents.roles
        #expect(try app.auditCount(action: "resident.export") == exporters.count)
        #expect(try app.auditCount(action: "resident.reveal_export") == exporters.intersection(Permission.revealPersonalData.roles).count)
    }

    /// The staff export fed back to the import as a dry run: every row is found unchanged.
    @Test func exportRoundTripsThroughTheImport() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        try f.resident("王芳", phone: "13812345678", house: f.house(unit: "3", room: "301"), political: "01",
                       tags: ["独居老人", "残疾人"], notes: "行动不便, 需\"上门\"")
        try f.resident("李四", house: f.house(unit: "1", room: "101"), relation: "tenant")
        try f.resident("赵敏", idNumber: ResidentFixture.idNumber(birth: "19751231", checkX: true), relation: "hukou")
        let staff = try app.signedIn(.staff)
        let csv = try staff.get("/residents/export.csv?full=1&reason=" + encoded("年度核对"))
        #expect(csv.status == 200)

        try staff.get("/residents/import")
        let boundary = "----jinlin-search-roundtrip"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(staff.csrf ?? "")\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\n1\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"residents.csv\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
        body += csv.body + Array("\r\n--\(boundary)--\r\n".utf8)
        let post = try staff.send("POST", "/residents/import", body: body,
                                  headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
        let location = try #require(post.header("location"), "import answered \(post.status): \(post.text)")
        var page = try staff.get(location)
        let deadline = Date().addingTimeInterval(30)
        while page.text.contains("http-equiv=\"refresh\""), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            page = try staff.get(location)
        }
        func figure(_ label: String) -> Int? {
            guard let range = page.text.range(of: "<th>\(label)</th><td class=\"text-right\">") else { return nil }
            return Int(page.text[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(figure("无变化") == 3, "\(page.text)")
        #expect(figure("将新增居民") == 0)
        #expect(figure("将更新居民") == 0)
    }

    @Test func exportStreamsManyBatches() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let house = try f.house()
        try app.database.write { db in
            for i in 0..<2_345 {
                let number = ResidentFixture.idNumber(birth: "19900101", area: String(format: "%06d", 110000 + i))
                try db.execute(sql: """
                    INSERT INTO residents (name, id_number, id_number_rev, sex, birth_date, status, building_id)
                    VALUES (?, ?, ?, 'M', '1990-01-01', 'active', ?)
                    """, arguments: ["批量\(i)", number, String(number.reversed()), app.building.id])
                try db.execute(sql: "INSERT INTO residences (resident_id, house_id, relation, started_on) VALUES (?, ?, 'resident', '2020-01-01')",
                               arguments: [db.lastInsertedRowID, house])
            }
        }
        let csv = try app.signedIn(.coordinator).get("/residents/export.csv")
        #expect(csv.header("transfer-encoding") == "chunked")
        let lines = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2_346)
        #expect(Set(lines.dropFirst()).count == 2_345)
    }

    @Test func rostersGroupAnEstateAndBindACommunity() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let second = try f.secondEstate()
        let r = try f.resident("王芳", phone: "13812345678", house: f.house(unit: "1", room: "101"), tags: ["独居老人"])
        try f.resident("王小", house: f.house(unit: "1", room: "101"), relation: "resident")
        try f.resident("李四", house: f.house(unit: "2", room: "201"))
        try f.resident("张三", house: f.house(building: second.building.id, unit: "1", room: "101"))
        try f.resident("迁出", movedOut: true)
        let client = try app.signedIn(.coordinator)

        let estate = try client.get("/rosters/estate/\(app.estate.id)")
        #expect(estate.status == 200)
        let html = estate.text
        #expect(html.contains("一小区一表") && html.contains("示范社区") && html.contains("阳光小区"))
        #expect(html.contains("1号楼（2 户，3 人）"))
        #expect(html.contains("共 2 户，3 人"))
        #expect(html.contains("打印日期"))
        #expect(!html.contains("张三") && !html.contains("迁出"))
        #expect(!html.contains(r.idNumber) && !html.contains("13812345678") && html.contains("138****5678"))
        #expect(!html.contains("site-nav"))
        if let first = html.range(of: "王芳"), let second = html.range(of: "王小"), let third = html.range(of: "李四") {
            #expect(first.lowerBound < second.lowerBound && second.lowerBound < third.lowerBound)
        } else {
            Issue.record("roster rows missing")
        }

        let book = try client.get("/rosters/community/\(app.community.id)")
        #expect(book.status == 200)
        #expect(book.text.contains("一社区一册"))
        #expect(book.text.components(separatedBy: "roster-section page-break").count == 3)
        #expect(book.text.contains("张三") && book.text.contains("王芳"))
        #expect(book.text.hasSuffix("</html>\n"))

        #expect(try client.get("/rosters/estate/\(app.community.id)").status == 404)
        #expect(try client.get("/rosters/community/\(app.estate.id)").status == 404)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try outsider.get("/rosters/estate/\(app.estate.id)").status == 404)
        #expect(try outsider.get("/rosters/community/\(app.community.id)").status == 404)
        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try worker.get("/rosters/estate/\(app.estate.id)").status == 404)
        #expect(try app.signedIn(.member).get("/rosters/estate/\(app.estate.id)").status == 403)
    }
}
