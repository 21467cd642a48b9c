import Foundation
import GRDB
import Storage

/// In-app notifications (the bell in the header, `/notifications`): written by the stores in
/// the transaction of the change they announce. No e-mail or SMS.
public enum Notifications {
    /// Adds a notification for `userID`; `link` is a local path (or empty).
    public static func post(_ db: Database, userID: Int64, text: String, link: String = "") throws {
        try db.execute(sql: """
            INSERT INTO notifications (user_id, text, link, created_at) VALUES (?, ?, ?, \(Timestamp.nowSQL))
            """, arguments: [userID, String(text.prefix(300)), link])
    }

    /// Unread notifications of `userID` (the count in the header).
    public static func unreadCount(_ db: Database, userID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                         arguments: [userID]) ?? 0
    }
}
