#!/usr/bin/env python3
"""Browser check of wish claims 微心愿 on a phone: a resident posts a wish at 375 px; staff
approve it; a party member finds it on the board (masked name, no ID number), claims it and
closes it with a note and a photo carrying GPS EXIF; the resident rates it; the photo served back
has no EXIF; the printable 心愿墙 and the notifications page render.

Runs against a server on a database filled by `jinlin seed` (the demo accounts `staff1`,
`member1` and `resident1` share one password). `member1` is linked to a resident of its grid and
made a party member (as volunteering_test.py does); `resident1` is linked to another resident
living in that grid and placed (scoped) in that resident's building, directly in the database.
Screenshots at 375 px and 1280 px go to --out.

usage: wishes_test.py --base-url http://127.0.0.1:PORT --db DATA/jinlin.sqlite --password PW --out DIR
Prints PASS/FAIL lines and 'browser: N passed, N failed'; exits 1 on any failure.
"""
import argparse, os, random, sqlite3, struct, tempfile, urllib.request

from browser_support import check, click_and_wait, fill, make_driver, run_and_report, shot, sign_in, submit
from selenium.webdriver.common.by import By
from volunteering_test import add_resident, link_member, no_horizontal_page_scroll

WIDTHS = (375, 1280)
GPS = b"GPSLatitude-30.2741N-120.1551E"


def shots(driver, out, name):
    for width in WIDTHS:
        shot(driver, out, name, width)
    driver.set_window_size(375, 900)


def link_resident(db_path, username, member_username):
    """Links `username` (a resident account) to a resident of `member_username`'s grid who has no
    account yet, and scopes the account to that resident's building. Returns the resident's name."""
    db = sqlite3.connect(db_path, timeout=10)
    try:
        (scope_path,) = db.execute("SELECT g.path FROM users u JOIN grids g ON g.id = u.scope_grid_id WHERE u.username = ?",
                                   (member_username,)).fetchone()
        upper = scope_path[:-1] + "0"
        query = """
            SELECT r.id, r.name, r.building_id FROM residents r JOIN grids b ON b.id = r.building_id
            WHERE b.path >= ? AND b.path < ? AND r.status = 'active'
              AND r.id NOT IN (SELECT resident_id FROM users WHERE resident_id IS NOT NULL)
            ORDER BY r.id LIMIT 1"""
        row = db.execute(query, (scope_path, upper)).fetchone()
        if row is None:
            add_resident(db, scope_path, upper)
            row = db.execute(query, (scope_path, upper)).fetchone()
        resident_id, name, building_id = row
        with db:
            db.execute("UPDATE users SET resident_id = NULL WHERE username = ?", (username,))
            db.execute("UPDATE users SET resident_id = ?, scope_grid_id = ? WHERE username = ?", (resident_id, building_id, username))
        return name
    finally:
        db.close()


def jpeg_with_gps(path):
    def segment(marker, payload):
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    data = b"\xFF\xD8" + segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0") + segment(0xE1, b"Exif\0\0" + GPS)
    data += segment(0xDB, b"\0" + b"\x01" * 64) + segment(0xDA, b"\x01\x01\0\0\x3F\0") + b"\x12\x34\xFF\x00\x56" + b"\xFF\xD9"
    with open(path, "wb") as f:
        f.write(data)


def run(args):
    os.makedirs(args.out, exist_ok=True)
    link_member(args.db, args.member)
    wisher_name = link_resident(args.db, args.resident, args.member)
    title = f"帮忙修理电饭煲{random.randint(1000, 9999)}"
    photo = os.path.join(tempfile.mkdtemp(), "photo.jpg")
    jpeg_with_gps(photo)

    resident = make_driver(375)
    staff = make_driver(1280)
    member = make_driver(375)
    try:
        # The resident posts a wish on a phone.
        sign_in(resident, args.base_url, args.resident, args.password)
        resident.get(args.base_url + "/wishes/new")
        fill(resident, "title", title)
        fill(resident, "category", "3")
        fill(resident, "value", "50")
        no_horizontal_page_scroll(resident, "/wishes/new")
        shots(resident, args.out, "wish-resident-new")
        submit(fill(resident, "description", "电饭煲不加热了，想请人帮忙看看"))
        check("resident: wish submitted", "心愿已提交" in resident.page_source, resident.current_url)
        wish_url = resident.current_url

        # Staff approve it.
        sign_in(staff, args.base_url, args.staff, args.password)
        staff.get(wish_url)
        click_and_wait(staff.find_element(By.XPATH, "//button[contains(., '审核通过并发布')]"))
        check("staff: wish published", "心愿已发布" in staff.page_source)
        shots(staff, args.out, "wish-staff-approved")

        # The member finds it on the board: masked name, no full name.
        sign_in(member, args.base_url, args.member, args.password)
        member.get(args.base_url + "/wishes")
        article = next((a for a in member.find_elements(By.CSS_SELECTOR, "article.item") if title in a.text), None)
        check("member: the wish is on the board", article is not None)
        masked = wisher_name[0] + "*" * max(1, len(wisher_name) - 1)
        check("member: the wisher's name is masked", article is not None and masked in article.text and wisher_name not in member.page_source)
        no_horizontal_page_scroll(member, "/wishes")
        shots(member, args.out, "wish-member-board")
        member.get(wish_url)
        click_and_wait(member.find_element(By.XPATH, "//button[contains(., '我来认领')]"))
        check("member: claimed", "认领成功" in member.page_source)
        check("member: the name shows after claiming", wisher_name in member.page_source)
        fill(member, "note", "已上门修好，换了保险丝")
        member.find_element(By.NAME, "photo").send_keys(photo)
        no_horizontal_page_scroll(member, "wish page")
        shots(member, args.out, "wish-member-claimed")
        click_and_wait(member.find_element(By.XPATH, "//button[contains(., '完成结单')]"))
        check("member: completed with a photo", "已结单" in member.page_source)

        # The resident rates it; the photo comes back without EXIF.
        resident.get(wish_url)
        click_and_wait(resident.find_element(By.XPATH, "//button[contains(., '提交评价')]"))
        check("resident: rated", "感谢您的评价" in resident.page_source and "已办结" in resident.page_source)
        no_horizontal_page_scroll(resident, "rated wish")
        shots(resident, args.out, "wish-resident-rated")
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in resident.get_cookies())
        request = urllib.request.Request(wish_url + "/photo", headers={"Cookie": cookie})
        with urllib.request.urlopen(request) as response:
            body = response.read()
            check("photo: served privately", response.headers.get("Cache-Control", "").startswith("private"))
        check("photo: no EXIF or GPS left", b"Exif" not in body and GPS not in body and body.startswith(b"\xFF\xD8"))

        resident.get(args.base_url + "/notifications")
        check("resident: notified of publishing, the claim and completion", resident.page_source.count(title) >= 3)
        shots(resident, args.out, "wish-resident-notifications")
        staff.get(args.base_url + "/wishes/wall")
        check("staff: the 心愿墙 renders", "心愿墙" in staff.page_source)
        shots(staff, args.out, "wish-staff-wall")
    finally:
        resident.quit()
        staff.quit()
        member.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--staff", default="staff1")
    parser.add_argument("--member", default="member1")
    parser.add_argument("--resident", default="resident1")
    parser.add_argument("--out", required=True)
    run_and_report(run, parser.parse_args())
