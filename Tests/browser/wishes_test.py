#!/usr/bin/env python3
"""Browser check of wish claims 微心愿 on a phone: a resident registers at /register (the record
matches, so the account opens at once), signs in with the phone number and posts a wish at 375 px; staff
approve it; a party member finds it on the board (masked name, no ID number), claims it and
closes it with a note and a photo carrying GPS EXIF; the resident rates it; the photo served back
has no EXIF; the member sees the credits and the card entry the rating posted and redeems a
reward, whose 6-digit code staff write off; a newcomer registers at /register and is told the
same as anyone; the printable 心愿墙 and the notifications page render.

Runs against a server on a database filled by `jinlin seed` (the demo accounts `staff1` and
`member1` share one password). `member1` is linked to a resident of its grid and made a party
member (as volunteering_test.py does); the registering resident is one of that grid without an
account, read from the database.
Screenshots at 375 px and 1280 px go to --out.

usage: wishes_test.py --base-url http://127.0.0.1:PORT --db DATA/jinlin.sqlite --password PW --out DIR
Prints PASS/FAIL lines and 'browser: N passed, N failed'; exits 1 on any failure.
"""
import argparse, base64, os, random, sqlite3, struct, tempfile, time, urllib.request

from browser_support import check, click_and_wait, fill, make_driver, run_and_report, shot, sign_in, submit
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from residents_test import make_id
from volunteering_test import add_resident, link_member, no_horizontal_page_scroll

WIDTHS = (375, 1280)
GPS = b"GPSLatitude-30.2741N-120.1551E"


def shots(driver, out, name):
    for width in WIDTHS:
        shot(driver, out, name, width)
    driver.set_window_size(375, 900)


def registrant(db_path, member_username):
    """A resident of `member_username`'s grid with a phone and no account yet, who will register
    at /register: (name, ID number, phone)."""
    db = sqlite3.connect(db_path, timeout=10)
    try:
        (scope_path,) = db.execute("SELECT g.path FROM users u JOIN grids g ON g.id = u.scope_grid_id WHERE u.username = ?",
                                   (member_username,)).fetchone()
        upper = scope_path[:-1] + "0"
        query = """
            SELECT r.name, r.id_number, r.phone FROM residents r JOIN grids b ON b.id = r.building_id
            WHERE b.path >= ? AND b.path < ? AND r.status = 'active' AND r.phone IS NOT NULL
              AND r.id NOT IN (SELECT resident_id FROM users WHERE resident_id IS NOT NULL)
              AND r.phone NOT IN (SELECT username FROM users)
            ORDER BY r.id DESC LIMIT 1"""
        row = db.execute(query, (scope_path, upper)).fetchone()
        if row is None:
            add_resident(db, scope_path, upper)
            db.commit()
            row = db.execute(query, (scope_path, upper)).fetchone()
        return row
    finally:
        db.close()


def jpeg_with_gps(path, driver):
    """A photo a phone might take: a real JPEG (drawn and encoded by the browser, so it decodes
    and shows) with an EXIF segment carrying GPS right after its start, which the server must strip."""
    encoded = driver.execute_script("""
        const c = document.createElement('canvas'); c.width = 160; c.height = 120;
        const g = c.getContext('2d');
        g.fillStyle = '#7f8c8d'; g.fillRect(0, 0, 160, 120);
        g.fillStyle = '#2c3e50'; g.beginPath(); g.arc(80, 60, 36, 0, 2 * Math.PI); g.fill();
        return c.toDataURL('image/jpeg', 0.8);""")
    jpeg = base64.b64decode(encoded.split(",", 1)[1])
    assert jpeg.startswith(b"\xFF\xD8")
    exif = b"Exif\0\0" + GPS
    data = b"\xFF\xD8" + b"\xFF\xE1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[2:]
    with open(path, "wb") as f:
        f.write(data)


def photo_displayed(driver, selector):
    """Whether every image matching `selector` has loaded and decoded (a broken one has no width)
    within 5 seconds."""
    for _ in range(50):
        state = driver.execute_script("""
            const imgs = [...document.querySelectorAll(arguments[0])];
            if (imgs.length === 0 || imgs.some(i => !i.complete)) return 'loading';
            return imgs.every(i => i.naturalWidth > 0) ? 'shown' : 'broken';""", selector)
        if state != "loading":
            return state == "shown"
        time.sleep(0.1)
    return False


def run(args):
    os.makedirs(args.out, exist_ok=True)
    link_member(args.db, args.member)
    wisher_name, wisher_id, wisher_phone = registrant(args.db, args.member)
    title = f"帮忙修理电饭煲{random.randint(1000, 9999)}"
    photo = os.path.join(tempfile.mkdtemp(), "photo.jpg")

    resident = make_driver(375)
    staff = make_driver(1280)
    member = make_driver(375)
    try:
        jpeg_with_gps(photo, member)
        # The resident registers on a phone (name, ID number and phone match the record, so the
        # account opens at once), signs in with the phone number and posts a wish.
        resident.get(args.base_url + "/register")
        fill(resident, "name", wisher_name)
        fill(resident, "id_number", wisher_id)
        fill(resident, "phone", wisher_phone)
        Select(resident.find_element(By.NAME, "community_id")).select_by_index(1)
        fill(resident, "password", "resident-pass-2026")
        fill(resident, "confirm_password", "resident-pass-2026")
        no_horizontal_page_scroll(resident, "/register")
        shots(resident, args.out, "register-form")
        submit(resident.find_element(By.NAME, "name"))
        check("resident: registration received", "已收到您的注册信息" in resident.page_source)
        sign_in(resident, args.base_url, wisher_phone, "resident-pass-2026")
        check("resident: signs in with the phone number", "/login" not in resident.current_url, resident.current_url)
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
        check("member: the photo shows", photo_displayed(member, "img[src$='/photo']"))

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

        # The member sees the card points and the credits the rating posted, and redeems a reward.
        member.get(args.base_url + "/points/credits")
        check("member: credits from the wish", "微心愿" in member.page_source)
        no_horizontal_page_scroll(member, "/points/credits")
        shots(member, args.out, "wish-member-credits")
        click_and_wait(member.find_element(By.XPATH, "//a[contains(., '查看我的党员积分卡')]"))
        check("member: card entry for the wish", "微心愿" in member.page_source and "党员积分卡" in member.page_source)
        no_horizontal_page_scroll(member, "points card")
        shots(member, args.out, "wish-member-card")
        # Staff put a small reward in the shop; the member redeems it.
        staff.get(args.base_url + "/shop")
        reward = f"手工香皂{random.randint(1000, 9999)}"
        new_item = staff.find_element(By.XPATH, "//form[@action='/shop/new']")
        new_item.find_element(By.NAME, "name").send_keys(reward)
        for name, value in (("cost", "5"), ("stock", "3")):
            field = new_item.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        click_and_wait(new_item.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        check("staff: reward added to the shop", reward in staff.page_source)
        member.get(args.base_url + "/shop")
        redeem = member.find_elements(By.XPATH, f"//article[.//h3[contains(., '{reward}')]]//form[contains(@action, '/redeem')]/button")
        check("member: a reward they can afford", bool(redeem))
        if redeem:
            click_and_wait(redeem[0])
            member.get(args.base_url + "/points/credits")
            pending = member.find_elements(By.XPATH, "//article[.//p[@class='checkin-code']]")
            code = pending[0].find_element(By.CSS_SELECTOR, ".checkin-code strong").text if pending else ""
            redemption = pending[0].get_attribute("id").removeprefix("redemption-") if pending else ""
            check("member: a 6-digit write-off code", len(code) == 6 and code.isdigit(), code)
            shots(member, args.out, "wish-member-redeemed")
            # Staff hand the reward over and write the code off.
            staff.get(args.base_url + "/shop")
            form = staff.find_element(By.XPATH, f"//form[@action='/shop/redemptions/{redemption}/fulfil']")
            form.find_element(By.NAME, "code").send_keys(code)
            click_and_wait(form.find_element(By.CSS_SELECTOR, "button"))
            shots(staff, args.out, "wish-staff-fulfilled")
            member.get(args.base_url + "/points/credits")
            article = member.find_element(By.ID, "redemption-" + redemption)
            check("member: the redemption is written off", "已核销" in article.text, article.text)

        # Someone without an account registers on a phone; the answer does not say more.
        newcomer = make_driver(375)
        try:
            newcomer.get(args.base_url + "/register")
            fill(newcomer, "name", "新居民")
            fill(newcomer, "id_number", make_id("19900101", random.randint(700, 999)))
            fill(newcomer, "phone", "13812345678")
            Select(newcomer.find_element(By.NAME, "community_id")).select_by_index(1)
            fill(newcomer, "password", "newcomer-pass-1")
            fill(newcomer, "confirm_password", "newcomer-pass-1")
            no_horizontal_page_scroll(newcomer, "/register")
            submit(newcomer.find_element(By.NAME, "name"))
            check("newcomer: told the same as anyone", "已收到您的注册信息" in newcomer.page_source)
            shots(newcomer, args.out, "register-waiting")
        finally:
            newcomer.quit()

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
    parser.add_argument("--out", required=True)
    run_and_report(run, parser.parse_args())
