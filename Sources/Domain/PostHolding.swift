import GRDB

/// Holding a volunteer post 岗位: one rule for a member who claims a post and for staff who place
/// a member in one when confirming a 双报到. Runs inside the caller's write transaction, so the
/// capacity is counted and the place taken in one step.
public enum PostHolding {
    public struct Problem: Error, Sendable, Equatable {
        public let message: String
    }

    /// Starts `memberID`'s holding of `postID` on `day` (the caller has checked role and scope).
    public static func take(_ db: Database, postID: Int64, memberID: Int64, on day: String) throws {
        guard let post = try Row.fetchOne(db, sql: "SELECT capacity, active FROM posts WHERE id = ?", arguments: [postID]) else {
            throw Problem(message: "该岗位不存在。")
        }
        guard post["active"] as Int64 == 1 else { throw Problem(message: "该岗位已停用，不能认领。") }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM post_holders WHERE post_id = ? AND member_id = ? AND ended_on IS NULL",
                             arguments: [postID, memberID]) == true {
            throw Problem(message: "已认领该岗位，无需重复认领。")
        }
        let held = try Int.fetchOne(db, sql: "SELECT count(*) FROM post_holders WHERE post_id = ? AND ended_on IS NULL",
                                    arguments: [postID]) ?? 0
        guard held < post["capacity"] as Int else { throw Problem(message: "该岗位名额已满（\(held) 人），请选择其他岗位。") }
        try db.execute(sql: "INSERT INTO post_holders (post_id, member_id, started_on) VALUES (?, ?, ?)",
                       arguments: [postID, memberID, day])
    }
}
