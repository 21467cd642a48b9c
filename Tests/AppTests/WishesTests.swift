import Access
@testable import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing
@testable import WishesFeature

/// A clock the test moves forward (expiry of wishes and claims).
final class MovableClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    var clock: Clock { Clock { [self] in TestClock.now.addingTimeInterval(lock.withLock { offset }) } }
    func advance(days: Double) { lock.withLock { offset += days * 86_400 } }
}

/// Residents, members, staff and wishes for the wish tests.
struct WishFixture {
    let app: TestApp
    var volunteers: VolunteerFixture { VolunteerFixture(app: app) }

    struct Resident {
        let client: AppClient
        let residentID: Int64
        let userID: Int64
        let idNumber: String
    }

    /// A resident living in the test building, with a signed-in `resident` account linked to it.
    func resident(_ name: String = "王秀英", phone: String = "13812345678") throws -> Resident {
        let house = try volunteers.residents.house(building: app.building.id, room: String(100 + Int.random(in: 1...899)))
        let (residentID, idNumber) = try volunteers.residents.resident(name, birth: VolunteerFixture.birth(), phone: phone, house: house)
        let username = "r-\(UUID().uuidString.prefix(12))"
        let user = try app.makeUser(username, role: .resident)
        try app.database.write { db in
            try db.execute(sql: "UPDATE users SET resident_id = ? WHERE id = ?", arguments: [residentID, user.id])
        }
        let client = AppClient(port: app.port)
        let response = try client.signIn(username: username, password: TestApp.password)
        guard response.status == 303 else { throw TestFailure("resident sign-in answered \(response.status)") }
        return Resident(client: client, residentID: residentID, userID: user.id, idNumber: idNumber)
    }

    /// Posts a wish as the resident and returns its id.
    func post(_ resident: Resident, title: String = "帮忙修理电饭煲", value: String = "50") throws -> Int64 {
        try resident.client.get("/wishes/new")
        let response = try resident.client.post("/wishes/new", [("title", title), ("description", "电饭煲不加热了"), ("category", "3"),
                                                                ("value", value)])
        guard response.status == 303, let location = response.header("location"),
              let id = Int64(location.split(separator: "/").last ?? "") else {
            throw TestFailure("posting the wish answered \(response.status): \(response.text.prefix(300))")
        }
        return id
    }

    /// A wish posted by a new resident and published by `staff`.
    func published(_ staff: AppClient, title: String = "帮忙修理电饭煲") throws -> (wish: Int64, wisher: Resident) {
        let wisher = try resident()
        let id = try post(wisher, title: title)
        let approved = try staff.post("/wishes/\(id)/approve")
        guard approved.status == 303 else { throw TestFailure("approve answered \(approved.status): \(approved.text.prefix(300))") }
        return (id, wisher)
    }

    func status(_ id: Int64) throws -> String {
        try app.database.read { db in try String.fetchOne(db, sql: "SELECT status FROM wishes WHERE id = ?", arguments: [id]) ?? "" }
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try app.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    /// Everything a wish transition writes, to show that a refusal wrote nothing.
    func snapshot() throws -> [String] {
        try app.database.read { db in
            try String.fetchAll(db, sql: """
                SELECT id || status || coalesce(claimant_user_id, '-') || coalesce(rating, '-') || updated_at FROM wishes ORDER BY id
                """)
            + [String(try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_events") ?? 0),
               String(try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0),
               String(try Int.fetchOne(db, sql: "SELECT count(*) FROM notifications") ?? 0),
               String(try Int.fetchOne(db, sql: "SELECT count(*) FROM photos") ?? 0)]
        }
    }

    /// POSTs `/wishes/{id}/complete` as multipart with a photo.
    static func complete(_ client: AppClient, _ id: Int64, note: String = "已修好", photo: [UInt8]?, filename: String = "photo.jpg",
                         contentType: String = "image/jpeg") throws -> TestResponse {
        if client.csrf == nil { try client.get("/wishes/\(id)") }
        let boundary = "----jinlin\(UInt64.random(in: 1...UInt64.max))"
        var body: [UInt8] = []
        func field(_ name: String, _ value: String) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        field("_csrf", client.csrf ?? "")
        field("note", note)
        if let photo {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8)
            body += photo
            body += Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return try client.send("POST", "/wishes/\(id)/complete", body: body,
                               headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
    }
}

/// Small images with metadata, built byte by byte.
enum TestImages {
    static let gpsMarker = Array("GPSLatitude-30.2741N-120.1551E".utf8)

    /// A JPEG: SOI, APP0 JFIF, APP1 Exif with a GPS marker, COM, DQT, SOS with data, EOI.
    static func jpegWithGPS() -> [UInt8] {
        func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
            let length = payload.count + 2
            return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        }
        var bytes: [UInt8] = [0xFF, 0xD8]
        bytes += segment(0xE0, Array("JFIF\0".utf8) + [1, 1, 0, 0, 1, 0, 1, 0, 0])
        bytes += segment(0xE1, Array("Exif\0\0".utf8) + gpsMarker)
        bytes += segment(0xE1, Array("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS</x:xmpmeta>".utf8))
        bytes += segment(0xFE, Array("taken at home".utf8))
        bytes += segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
        bytes += segment(0xDA, [1, 1, 0, 0, 63, 0])
        bytes += [0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78]  // stuffed byte and a restart marker
        bytes += [0xFF, 0xD9]
        return bytes
    }

    static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let length = UInt32(data.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
            + Array(type.utf8) + data + [0, 0, 0, 0]
    }

    /// A PNG with tEXt, eXIf and iTXt chunks around the image chunks.
    static func pngWithText() -> [UInt8] {
        PhotoSanitizer.pngSignature + pngChunk("IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])
            + pngChunk("tEXt", Array("Comment\0GPS 30.27N".utf8)) + pngChunk("eXIf", Array("MM\0*".utf8) + gpsMarker)
            + pngChunk("IDAT", [0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1]) + pngChunk("iTXt", Array("XML:com.adobe.xmp\0\0\0\0\0GPS".utf8))
            + pngChunk("IEND", [])
    }

    /// A WebP (VP8X with the EXIF and XMP flags) with EXIF and XMP chunks.
    static func webpWithExif() -> [UInt8] {
        func chunk(_ fourCC: String, _ data: [UInt8]) -> [UInt8] {
            let size = UInt32(data.count)
            return Array(fourCC.utf8) + [UInt8(size & 0xFF), UInt8((size >> 8) & 0xFF), UInt8((size >> 16) & 0xFF), UInt8(size >> 24)]
                + data + (data.count % 2 == 1 ? [0] : [])
        }
        let body = Array("WEBP".utf8) + chunk("VP8X", [0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]) + chunk("VP8 ", [1, 2, 3, 4, 5])
            + chunk("EXIF", Array("MM\0*".utf8) + gpsMarker) + chunk("XMP ", Array("<x:xmpmeta>GPS</x:xmpmeta>".utf8))
        let size = UInt32(body.count)
        return Array("RIFF".utf8) + [UInt8(size & 0xFF), UInt8((size >> 8) & 0xFF), UInt8((size >> 16) & 0xFF), UInt8(size >> 24)] + body
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}

@Suite struct WishesTests {
    // MARK: - The whole loop

    @Test func aWishGoesFromResidentToStaffToMemberAndBackWithTimelineAuditAndNotifications() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let wisher = try f.resident("王秀英", phone: "13812345678")
        let member = try f.volunteers.member("李建国")

        let id = try f.post(wisher)
        #expect(try f.status(id) == "submitted")
        #expect(try f.count("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.role = 'staff'") >= 1,
                "staff told a wish waits for review")
        #expect(try member.client.get("/wishes/\(id)").status == 404, "not on the board before review")
        #expect(try staff.get("/").text.contains("class=\"badge\""), "the bell shows a count")

        #expect(try staff.post("/wishes/\(id)/approve").status == 303)
        #expect(try f.status(id) == "published")

        // Before claiming: 王** and the building, never the ID number or the phone.
        let board = try member.client.get("/wishes")
        #expect(board.status == 200 && board.text.contains("帮忙修理电饭煲"))
        #expect(board.text.contains("王**") && !board.text.contains("王秀英"))
        let page = try member.client.get("/wishes/\(id)")
        #expect(page.text.contains("王**") && page.text.contains("1号楼"))
        #expect(!page.text.contains(wisher.idNumber) && !page.text.contains(String(wisher.idNumber.suffix(4))))
        #expect(!page.text.contains("13812345678") && !page.text.contains("5678"))
        let code = try app.database.read { db in try String.fetchOne(db, sql: "SELECT code FROM wishes WHERE id = ?", arguments: [id]) ?? "" }
        #expect(try member.client.get("/w/\(code.lowercased())").header("location") == "/wishes/\(id)")
        #expect(try member.client.get("/w/ZZZZZZ").status == 404)
        #expect(try member.client.get("/w?code=\(code.lowercased())").header("location") == "/w/\(code)")

        #expect(try member.client.post("/wishes/\(id)/claim").status == 303)
        #expect(try f.status(id) == "claimed")
        // After claiming: the name, and the phone as an audited reveal.
        #expect(try member.client.get("/wishes/\(id)").text.contains("王秀英"))
        let revealed = try member.client.post("/wishes/\(id)/phone")
        #expect(revealed.status == 200 && revealed.text.contains("13812345678"))
        #expect(try app.auditCount(action: "wish.reveal_phone") == 1)

        let completed = try WishFixture.complete(member.client, id, photo: TestImages.jpegWithGPS())
        #expect(completed.status == 303, "\(completed.text.prefix(2000))")
        #expect(try f.status(id) == "completed")
        let photo = try wisher.client.get("/wishes/\(id)/photo")
        #expect(photo.status == 200)
        #expect(photo.header("content-type") == "image/jpeg")
        #expect(photo.header("cache-control")?.hasPrefix("private") == true)
        #expect(!TestImages.contains(photo.body, Array("Exif".utf8)) && !TestImages.contains(photo.body, TestImages.gpsMarker))
        #expect(!TestImages.contains(photo.body, Array("GPS".utf8)))
        #expect(photo.body.starts(with: [0xFF, 0xD8]) && photo.body.suffix(2) == [0xFF, 0xD9])
        #expect(try app.signedIn(.staff, scope: app.otherCommunity.id).get("/wishes/\(id)/photo").status == 404)

        #expect(try wisher.client.post("/wishes/\(id)/rate", [("rating", "5"), ("comment", "非常感谢")]).status == 303)
        #expect(try f.status(id) == "closed")
        let actions = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM timeline_events WHERE entity_type = 'wish' AND entity_id = ? ORDER BY id", arguments: [id])
        }
        #expect(actions == ["wish.create", "wish.approve", "wish.claim", "wish.complete", "wish.rate", "wish.close"])
        // The rating posted the claimant's credits and, for a party member, the card entry, once each.
        #expect(try f.count("SELECT count(*) FROM credit_entries WHERE source_key = ?", ["wish:\(id):credit"]) == 1)
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE source_key = ?", ["wish:\(id):card"]) == 1)
        for action in ["wish.create", "wish.approve", "wish.claim", "wish.complete", "wish.rate", "wish.close"] {
            #expect(try app.auditCount(action: action) == 1, "\(action)")
        }
        // The wisher heard of publishing, the claim and completion; the claimant of the rating.
        #expect(try f.count("SELECT count(*) FROM notifications WHERE user_id = ?", [wisher.userID]) == 3)
        #expect(try f.count("SELECT count(*) FROM notifications WHERE user_id = ?", [member.userID]) == 1)
        let inbox = try wisher.client.get("/notifications")
        #expect(inbox.status == 200 && inbox.text.contains("已被党员 李** 认领"))
        #expect(try wisher.client.post("/notifications/read").status == 303)
        #expect(try f.count("SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL", [wisher.userID]) == 0)
        #expect(try staff.get("/wishes/wall").status == 200)
    }

    @Test func staffPostForAResidentFoundByNameOrLastFourDigitsAndRateOnTheirBehalf() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let (residentID, idNumber) = try f.volunteers.residents.resident("赵桂兰", birth: VolunteerFixture.birth())
        let byName = try staff.get("/wishes/new?q=" + encoded("赵桂"))
        #expect(byName.status == 200 && byName.text.contains("赵桂兰") && !byName.text.contains(idNumber))
        #expect(try staff.get("/wishes/new?q=" + idNumber.suffix(4)).text.contains("赵桂兰"))
        let partial = try staff.get("/wishes/new?q=" + idNumber.suffix(6))
        #expect(partial.status == 400 && partial.text.contains("请输入后 4 位或完整号码"))

        #expect(try staff.post("/wishes/new", [("title", "买学习用品"), ("category", "2"), ("value", "501"),
                                               ("resident_id", String(residentID))]).status == 422, "over the value cap")
        #expect(try staff.post("/wishes/new", [("title", "买学习用品"), ("category", "2"), ("value", "80")]).status == 422,
                "staff must choose the resident")
        let posted = try staff.post("/wishes/new", [("title", "买学习用品"), ("category", "2"), ("value", "80"),
                                                    ("resident_id", String(residentID))])
        #expect(posted.status == 303)
        let id = try #require(posted.header("location").flatMap { Int64($0.split(separator: "/").last ?? "") })
        let member = try f.volunteers.member("孙志强")
        #expect(try staff.post("/wishes/\(id)/approve").status == 303)
        #expect(try member.client.post("/wishes/\(id)/claim").status == 303)
        #expect(try member.client.post("/wishes/\(id)/complete", [("note", "已送到")]).status == 303)
        #expect(try staff.post("/wishes/\(id)/rate", [("rating", "4")]).status == 303)
        let note = try app.database.read { db in
            try String.fetchOne(db, sql: "SELECT note FROM timeline_events WHERE entity_type = 'wish' AND entity_id = ? AND action = 'wish.rate'",
                                arguments: [id])
        }
        #expect(note?.contains("工作人员代居民评价") == true)
        #expect(try staff.get("/wishes/\(id)").text.contains("工作人员代居民评价"))
    }

    @Test func staffRejectWithAReasonAndWisherOrStaffCancelBeforeAClaim() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let wisher = try f.resident()
        let rejected = try f.post(wisher, title: "想要一台新电视")
        #expect(try staff.post("/wishes/\(rejected)/reject", [("reason", "超出微心愿范围")]).status == 303)
        #expect(try f.status(rejected) == "rejected")
        #expect(try wisher.client.get("/wishes/\(rejected)").text.contains("超出微心愿范围"))
        #expect(try f.count("SELECT count(*) FROM notifications WHERE user_id = ? AND text LIKE '%超出微心愿范围%'", [wisher.userID]) == 1)

        let mine = try f.post(wisher, title: "借一把梯子")
        #expect(try staff.post("/wishes/\(mine)/approve").status == 303)
        #expect(try wisher.client.post("/wishes/\(mine)/cancel", [("reason", "已经借到了")]).status == 303)
        #expect(try f.status(mine) == "cancelled")
        let theirs = try f.post(wisher, title: "代买药品")
        #expect(try staff.post("/wishes/\(theirs)/cancel").status == 303)
        #expect(try f.status(theirs) == "cancelled")
        #expect(try app.auditCount(action: "wish.cancel") == 2)
        #expect(try app.auditCount(action: "wish.reject") == 1)
        let member = try f.volunteers.member("马志远")
        #expect(try member.client.get("/wishes").text.contains("借一把梯子") == false, "cancelled wishes leave the board")
    }

    // MARK: - Refusals write nothing

    @Test func refusalsAnswer403404409And422AndWriteNothing() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        let coordinator = try app.signedIn(.coordinator)
        let member = try f.volunteers.member("周红梅")
        let wisher = try f.resident()
        let id = try f.post(wisher)
        let before = try f.snapshot()

        // Wrong role: 403.
        #expect(try member.client.post("/wishes/\(id)/approve").status == 403)
        #expect(try wisher.client.post("/wishes/\(id)/approve").status == 403)
        #expect(try coordinator.post("/wishes/\(id)/approve").status == 403)
        #expect(try staff.post("/wishes/\(id)/claim").status == 403)
        // Outside the scope: 404.
        #expect(try outsider.post("/wishes/\(id)/approve").status == 404)
        #expect(try outsider.get("/wishes/\(id)").status == 404)
        // Wrong state: 409.
        #expect(try member.client.post("/wishes/\(id)/claim").status == 409)
        #expect(try staff.post("/wishes/\(id)/rate", [("rating", "5")]).status == 409)
        #expect(try staff.post("/wishes/\(id)/reject").status == 422, "a reason is needed")
        #expect(try f.snapshot() == before)

        #expect(try staff.post("/wishes/\(id)/approve").status == 303)
        let other = try f.resident("钱多多", phone: "13900001111")
        let second = try f.volunteers.member("吴晓东")
        let published = try f.snapshot()
        let again = try staff.post("/wishes/\(id)/approve")
        #expect(again.status == 409 && again.text.contains("待审核"))
        // Someone else's wish: a resident may neither cancel nor rate it.
        #expect(try other.client.post("/wishes/\(id)/cancel").status == 403, "another resident's wish")
        #expect(try other.client.get("/wishes/\(id)").status == 404, "and not visible to them")
        #expect(try f.snapshot() == published)

        #expect(try member.client.post("/wishes/\(id)/claim").status == 303)
        let claimed = try f.snapshot()
        #expect(try second.client.post("/wishes/\(id)/release", [("reason", "没空")]).status == 403, "not their claim")
        #expect(try second.client.post("/wishes/\(id)/complete", [("note", "完成")]).status == 403)
        #expect(try WishFixture.complete(second.client, id, photo: TestImages.jpegWithGPS()).status == 403)
        let photos = (try? FileManager.default.contentsOfDirectory(atPath: app.directory.appendingPathComponent("photos").path)) ?? []
        #expect(photos.isEmpty, "a refused upload never reaches the disk")
        #expect(try wisher.client.post("/wishes/\(id)/cancel").status == 409, "no cancel once claimed")
        #expect(try member.client.post("/wishes/\(id)/release").status == 422, "a reason is needed")
        #expect(try staff.post("/wishes/\(id)/rate", [("rating", "5")]).status == 409)
        #expect(try f.snapshot() == claimed)

        #expect(try member.client.post("/wishes/\(id)/complete", [("note", "完成")]).status == 303)
        let completed = try f.snapshot()
        #expect(try other.client.post("/wishes/\(id)/rate", [("rating", "1")]).status == 403)
        #expect(try wisher.client.post("/wishes/\(id)/rate", [("rating", "9")]).status == 422)
        #expect(try f.snapshot() == completed)
    }

    @Test func ratingSomeoneElsesWishIs403() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let member = try f.volunteers.member("郑国庆")
        let (id, _) = try f.published(staff)
        #expect(try member.client.post("/wishes/\(id)/claim").status == 303)
        #expect(try member.client.post("/wishes/\(id)/complete", [("note", "完成")]).status == 303)
        // Another resident of the same community, and another member: 403, nothing written.
        let other = try f.resident("冯丽")
        let before = try f.snapshot()
        let refused = try other.client.post("/wishes/\(id)/rate", [("rating", "5")])
        #expect(refused.status == 403 && refused.text.contains("只能评价自己的心愿"))
        #expect(try member.client.post("/wishes/\(id)/rate", [("rating", "5")]).status == 403)
        #expect(try f.snapshot() == before)
        #expect(try f.status(id) == "completed")
    }

    @Test func aMemberHoldsAtMostKOpenClaims() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let member = try f.volunteers.member("陈志远")
        var ids: [Int64] = []
        for n in 0..<4 { ids.append(try f.published(staff, title: "心愿\(n)").wish) }
        for id in ids.prefix(3) { #expect(try member.client.post("/wishes/\(id)/claim").status == 303) }
        let before = try f.snapshot()
        let refused = try member.client.post("/wishes/\(ids[3])/claim")
        #expect(refused.status == 409 && refused.text.contains("最多同时认领 3 个"))
        #expect(try f.snapshot() == before)
        #expect(try member.client.post("/wishes/\(ids[0])/release", [("reason", "临时出差")]).status == 303)
        #expect(try f.status(ids[0]) == "published")
        #expect(try member.client.post("/wishes/\(ids[3])/claim").status == 303)
    }

    @Test func twentyMembersClaimOneWishAtOnceAndExactlyOneGetsIt() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let (id, _) = try f.published(staff)
        let members = try (0..<20).map { n in try f.volunteers.member("党员\(n)") }
        for member in members { try member.client.get("/wishes/\(id)") }
        let results = parallel(members) { member in
            (try? member.client.post("/wishes/\(id)/claim")).map { ($0.status, $0.text) } ?? (0, "")
        }
        #expect(results.filter { $0.0 == 303 }.count == 1, "\(results.map(\.0))")
        #expect(results.filter { $0.0 == 409 }.count == 19)
        #expect(results.filter { $0.0 == 409 }.allSatisfy { $0.1.contains("抢先认领") && $0.1.contains("党**") })
        #expect(try f.count("SELECT count(*) FROM timeline_events WHERE entity_type = 'wish' AND action = 'wish.claim'") == 1)
        #expect(try app.auditCount(action: "wish.claim") == 1)
    }

    // MARK: - Expiry

    @Test func publishedWishesAndClaimsExpireOnTheClock() throws {
        let time = MovableClock()
        let app = try TestApp { $0.clock = time.clock }
        let f = WishFixture(app: app)
        let sweep = { try WishStore(database: app.database).sweep() }
        let (stale, _) = try f.published(try app.signedIn(.staff), title: "无人认领的心愿")
        time.advance(days: 20)
        // Sessions end when idle for days: each step signs in afresh.
        let (claimedID, _) = try f.published(try app.signedIn(.staff), title: "认领的心愿")
        let member = try f.volunteers.member("何建军")
        #expect(try member.client.post("/wishes/\(claimedID)/claim").status == 303)

        time.advance(days: 11)  // the first is 31 days old (N = 30); the claim 11 days (M = 14)
        #expect(try app.signedIn(.staff).get("/wishes").status == 200, "the board sweeps lazily")
        #expect(try f.status(stale) == "expired")
        #expect(try f.status(claimedID) == "claimed")

        time.advance(days: 2)  // 13 days: warned once, still claimed
        try sweep()
        try sweep()
        #expect(try f.status(claimedID) == "claimed")
        #expect(try f.count("SELECT count(*) FROM notifications WHERE user_id = ? AND text LIKE '%即将到期%'", [member.userID]) == 1)

        time.advance(days: 1.5)  // 14.5 days: back to published, the claimant told
        try sweep()
        #expect(try f.status(claimedID) == "published")
        #expect(try f.count("SELECT count(*) FROM notifications WHERE user_id = ? AND text LIKE '%已退回待认领%'", [member.userID]) == 1)
        #expect(try app.auditCount(action: "wish.claim_expire") == 1)
        #expect(try app.auditCount(action: "wish.expire") == 1)
        #expect(try f.count("SELECT count(*) FROM wishes WHERE claimant_user_id IS NOT NULL") == 0)
        let timeline = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM timeline_events WHERE entity_type = 'wish' AND entity_id = ? ORDER BY id",
                                arguments: [claimedID])
        }
        #expect(timeline == ["wish.create", "wish.approve", "wish.claim", "wish.claim_expire"])
    }

    // MARK: - Photos

    @Test func photosAreTypedByTheirBytesLimitedTo5MBAndRefusedWhenNotImages() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let member = try f.volunteers.member("林海")
        let (first, _) = try f.published(staff, title: "一")
        let (second, _) = try f.published(staff, title: "二")
        for id in [first, second] { #expect(try member.client.post("/wishes/\(id)/claim").status == 303) }
        let before = try f.snapshot()

        let html = try WishFixture.complete(member.client, first, photo: Array("<html><script>alert(1)</script></html>".utf8))
        #expect(html.status == 422 && html.text.contains("JPEG、PNG 或 WebP"))
        var big = TestImages.jpegWithGPS()
        big.insert(contentsOf: [UInt8](repeating: 0x20, count: 6 << 20), at: big.count - 2)
        let tooBig = try WishFixture.complete(member.client, first, photo: big)
        #expect(tooBig.status == 413 && tooBig.text.contains("照片不能超过 5 MB"))
        #expect(try f.snapshot() == before)

        // A PNG named .jpg and sent as image/jpeg is stored as the PNG it is, without its text chunks.
        #expect(try WishFixture.complete(member.client, first, photo: TestImages.pngWithText(), filename: "x.jpg").status == 303)
        let png = try member.client.get("/wishes/\(first)/photo")
        #expect(png.header("content-type") == "image/png")
        #expect(png.body.starts(with: PhotoSanitizer.pngSignature))
        #expect(!TestImages.contains(png.body, Array("tEXt".utf8)) && !TestImages.contains(png.body, Array("eXIf".utf8)))
        #expect(!TestImages.contains(png.body, TestImages.gpsMarker) && TestImages.contains(png.body, Array("IDAT".utf8)))
        #expect(try f.count("SELECT count(*) FROM photos WHERE mime = 'image/png'") == 1)

        #expect(try WishFixture.complete(member.client, second, photo: TestImages.webpWithExif(), filename: "y.jpg").status == 303)
        let webp = try member.client.get("/wishes/\(second)/photo")
        #expect(webp.header("content-type") == "image/webp")
        #expect(!TestImages.contains(webp.body, Array("EXIF".utf8)) && !TestImages.contains(webp.body, Array("XMP ".utf8)))
        #expect(webp.body[20] & 0x0C == 0, "VP8X flags cleared")
        #expect(Int(PhotoSanitizer.littleEndian32(webp.body, 4)) == webp.body.count - 8)
    }

    @Test func theSanitizerDropsMetadataAndKeepsTheImage() throws {
        let jpeg = try PhotoSanitizer.sanitize(TestImages.jpegWithGPS())
        #expect(jpeg.kind == .jpeg)
        #expect(!TestImages.contains(jpeg.bytes, Array("Exif".utf8)) && !TestImages.contains(jpeg.bytes, Array("xmpmeta".utf8)))
        #expect(!TestImages.contains(jpeg.bytes, Array("taken at home".utf8)))
        #expect(TestImages.contains(jpeg.bytes, Array("JFIF".utf8)))
        #expect(TestImages.contains(jpeg.bytes, [0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0xFF, 0xD9]), "scan data intact")
        #expect(try PhotoSanitizer.sanitize(jpeg.bytes).bytes == jpeg.bytes, "idempotent")
        #expect(throws: PhotoSanitizer.Problem.malformed) { try PhotoSanitizer.sanitize([0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, 1, 2]) }
        #expect(throws: PhotoSanitizer.Problem.unsupported) { try PhotoSanitizer.sanitize(Array("GIF89a".utf8)) }
        var truncatedPNG = TestImages.pngWithText()
        truncatedPNG.removeLast(16)
        #expect(throws: PhotoSanitizer.Problem.malformed) { try PhotoSanitizer.sanitize(truncatedPNG) }
    }

    // MARK: - Backup

    @Test func aBackupCopiesThePhotos() throws {
        let app = try TestApp()
        let f = WishFixture(app: app)
        let staff = try app.signedIn(.staff)
        let member = try f.volunteers.member("高洁")
        let (id, _) = try f.published(staff)
        #expect(try member.client.post("/wishes/\(id)/claim").status == 303)
        #expect(try WishFixture.complete(member.client, id, photo: TestImages.jpegWithGPS()).status == 303)
        let hash = try #require(try app.database.read { db in
            try String.fetchOne(db, sql: "SELECT photo_hash FROM wishes WHERE id = ?", arguments: [id])
        })

        let base = try JinlinBinary.temporaryDirectory("wish-backup")
        defer { try? FileManager.default.removeItem(at: base) }
        let copy = base.appendingPathComponent("copy.sqlite").path
        let backup = try JinlinBinary.run(["backup", copy, "--data-dir", app.directory.path, "--root", JinlinBinary.packageRoot.path])
        #expect(backup.status == 0, "\(backup)")
        let copied = URL(fileURLWithPath: copy + ".photos").appendingPathComponent(hash)
        let original = app.directory.appendingPathComponent("photos").appendingPathComponent(hash)
        #expect(FileManager.default.contents(atPath: copied.path) == FileManager.default.contents(atPath: original.path))
        #expect(FileManager.default.contents(atPath: copied.path) != nil)
        let inCopy = try JinlinBinary.openReadOnly(copy).read { db in
            try String.fetchOne(db, sql: "SELECT hash FROM photos")
        }
        #expect(inCopy == hash)
    }
}
