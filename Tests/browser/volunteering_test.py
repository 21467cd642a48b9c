#!/usr/bin/env python3
"""Browser check of volunteering on a phone: a party member claims a post and signs up for an
activity at 375 px; staff check the member in by the code the member shows and close the
activity; the member sees the credited hours on /me and prints the volunteer certificate.

Runs against a server on a database filled by `jinlin seed` (the demo accounts `staff1` and
`member1` share one password). The member account is linked to a resident of its grid and made
a party member directly in the database (the members module's pages will do that later).
Screenshots at 375 px and 1280 px go to --out.

usage: volunteering_test.py --base-url http://127.0.0.1:PORT --db DATA/jinlin.sqlite --password PW --out DIR
Prints PASS/FAIL lines and 'browser: N passed, N failed'; exits 1 on any failure.
"""
import argparse, datetime, os, random, sqlite3

from browser_support import check, click_and_wait, fill, make_driver, run_and_report, shot, sign_in, submit
from selenium.webdriver.common.by import By

WIDTHS = (375, 1280)
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def shots(driver, out, name):
    for width in WIDTHS:
        shot(driver, out, name, width)
    driver.set_window_size(375, 900)


def no_horizontal_page_scroll(driver, name):
    driver.set_window_size(375, 900)
    wide = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(f"{name}: no sideways page scroll at 375 px", wide <= 1, f"{wide}px too wide")


def local(hours):
    return (datetime.datetime.now(BEIJING) + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def link_member(db_path, username):
    """Links `username` to a resident living in its scope and makes that resident a party member.
    Returns (grid id, resident name)."""
    db = sqlite3.connect(db_path, timeout=10)
    try:
        user_id, scope_id, scope_path = db.execute(
            "SELECT u.id, u.scope_grid_id, g.path FROM users u JOIN grids g ON g.id = u.scope_grid_id WHERE u.username = ?",
            (username,)).fetchone()
        upper = scope_path[:-1] + "0"
        row = db.execute("""
            SELECT r.id, r.name FROM residents r JOIN grids b ON b.id = r.building_id
            WHERE b.path >= ? AND b.path < ? AND r.status = 'active'
              AND r.id NOT IN (SELECT resident_id FROM users WHERE resident_id IS NOT NULL)
            ORDER BY r.id LIMIT 1""", (scope_path, upper)).fetchone()
        if row is None:
            row = add_resident(db, scope_path, upper)
        resident_id, name = row
        with db:
            db.execute("UPDATE users SET resident_id = NULL WHERE id = ?", (user_id,))
            db.execute("UPDATE users SET resident_id = ? WHERE id = ?", (resident_id, user_id))
            db.execute("""INSERT OR IGNORE INTO party_members (resident_id, status, category, grid_id)
                          VALUES (?, 'full', 'employed', ?)""", (resident_id, scope_id))
        return scope_id, name
    finally:
        db.close()


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id():
    """A valid 18-character ID number (GB 11643 check character) not used yet in this run."""
    first17 = "330102" + f"19{random.randint(50, 99)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}" + f"{random.randint(0, 999):03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def add_resident(db, scope_path, upper):
    """A demo county seeded without residents: one resident in a building of the scope."""
    (building_id,) = db.execute("SELECT id FROM grids WHERE kind = 'building' AND path >= ? AND path < ? ORDER BY path LIMIT 1",
                                (scope_path, upper)).fetchone()
    number = make_id()
    birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    with db:
        db.execute("INSERT OR IGNORE INTO houses (building_id, unit, room) VALUES (?, '1', '101')", (building_id,))
        (house_id,) = db.execute("SELECT id FROM houses WHERE building_id = ? AND unit = '1' AND room = '101'", (building_id,)).fetchone()
        cursor = db.execute("""
            INSERT INTO residents (name, id_number, id_number_rev, sex, birth_date, political_status, status, building_id, notes)
            VALUES ('志愿者甲', ?, ?, ?, ?, '01', 'active', ?, '')""",
            (number, number[::-1], "M" if int(number[16]) % 2 else "F", birth, building_id))
        db.execute("""INSERT INTO residences (resident_id, house_id, relation, started_on)
                      VALUES (?, ?, 'owner', '2020-01-01')""", (cursor.lastrowid, house_id))
    return cursor.lastrowid, "志愿者甲"


def set_value(driver, name, value):
    """datetime-local inputs take keys in the browser's locale order; set the value directly."""
    element = driver.find_element(By.NAME, name)
    driver.execute_script("arguments[0].value = arguments[1]", element, value)


def run(args):
    os.makedirs(args.out, exist_ok=True)
    grid_id, member_name = link_member(args.db, args.member)
    suffix = random.randint(1000, 9999)
    post_title = f"楼道文明劝导员{suffix}"
    activity_title = f"清洁家园义务劳动{suffix}"

    staff = make_driver(1280)
    member = make_driver(375)
    try:
        # Staff publish a post and an activity (started an hour ago, sign-up open for another hour).
        sign_in(staff, args.base_url, args.staff, args.password)
        staff.get(args.base_url + "/posts/new")
        fill(staff, "title", post_title)
        fill(staff, "category_id", "4")
        fill(staff, "grid_id", str(grid_id))
        fill(staff, "duty", "每周劝导一次楼道堆物")
        submit(fill(staff, "capacity", "2"))
        check("staff: post created", post_title in staff.page_source)

        staff.get(args.base_url + "/activities/new")
        fill(staff, "title", activity_title)
        fill(staff, "category_id", "4")
        fill(staff, "grid_id", str(grid_id))
        fill(staff, "place", "小区广场")
        set_value(staff, "starts_at", local(-1))
        set_value(staff, "ends_at", local(2))
        set_value(staff, "signup_deadline", local(1))
        fill(staff, "capacity", "10")
        fill(staff, "hours", "2")
        shots(staff, args.out, "vol-staff-activity-form")
        staff.set_window_size(1280, 900)
        submit(staff.find_element(By.NAME, "hours"))
        activity_url = staff.current_url
        check("staff: activity published", activity_title in staff.page_source and "/activities/" in activity_url, activity_url)
        shots(staff, args.out, "vol-staff-activity-new")

        # The member on a phone: the menu, /me, claim the post, sign up.
        sign_in(member, args.base_url, args.member, args.password)
        member.get(args.base_url + "/me")
        check("member: /me greets the member", member_name in member.page_source)
        no_horizontal_page_scroll(member, "/me before")
        member.get(args.base_url + "/posts")
        article = next(a for a in member.find_elements(By.CSS_SELECTOR, "article.item") if post_title in a.text)
        check("member: the post in the member's grid is marked near", "离我近" in article.text)
        click_and_wait(article.find_element(By.XPATH, ".//button[contains(., '认领岗位')]"))
        check("member: post claimed", "认领成功" in member.page_source)
        no_horizontal_page_scroll(member, "/posts")
        shots(member, args.out, "vol-member-posts")

        member.get(activity_url)
        click_and_wait(member.find_element(By.XPATH, "//button[contains(., '我要报名')]"))
        check("member: signed up", "报名成功" in member.page_source)
        code = member.find_element(By.CSS_SELECTOR, ".checkin-code strong").text.strip()
        check("member: a 6-character check-in code shows", len(code) == 6, code)
        no_horizontal_page_scroll(member, "activity page")
        shots(member, args.out, "vol-member-signed-up")

        # Staff check the member in by the code shown, then close the activity.
        staff.get(activity_url)
        submit(fill(staff, "code", code))
        check("staff: checked in by code", "已签到 1 人" in staff.page_source)
        click_and_wait(staff.find_element(By.XPATH, "//button[contains(., '结束活动')]"))
        check("staff: activity closed with hours credited", "为 1 人记录了服务时长" in staff.page_source)
        shots(staff, args.out, "vol-staff-closed")

        # The member sees the hours on /me, and the certificate.
        member.get(args.base_url + "/me")
        hours = member.find_element(By.ID, "my-hours").text.strip()
        check("member: /me shows the credited hours", float(hours) >= 2, hours)
        check("member: the post is on /me", post_title in member.page_source)
        no_horizontal_page_scroll(member, "/me after")
        shots(member, args.out, "vol-member-me")
        click_and_wait(member.find_element(By.XPATH, "//a[contains(., '志愿服务记录证明')]"))
        check("member: certificate names the activity", activity_title in member.page_source and "民政部令第67号" in member.page_source)
        shots(member, args.out, "vol-member-certificate")
    finally:
        staff.quit()
        member.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--staff", default="staff1")
    parser.add_argument("--member", default="member1")
    parser.add_argument("--out", required=True)
    run_and_report(run, parser.parse_args())
