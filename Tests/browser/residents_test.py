#!/usr/bin/env python3
"""Browser check of residents, houses, import, export and rosters, as staff would use them.

Signs in as a staff account whose scope contains an estate (changing the password when asked),
creates a building under that estate and its houses with the range form, registers a resident
with a wrong ID number (the Chinese message shows on the field and the other fields are kept),
corrects it and saves, finds the resident by a 2-character name search, test-imports a CSV with
one good and one bad row (the bad row is reported with its line number), downloads the CSV
export (it starts with the UTF-8 BOM) and prints the estate roster to PDF (page 1 converted to
PNG with pdftoppm). Screenshots at 1280 px and 375 px go to --out.

usage: residents_test.py --base-url http://127.0.0.1:PORT --username staff1 --password PW --out DIR
Prints PASS/FAIL lines and 'browser: N passed, N failed'; exits 1 on any failure.
"""
import argparse, base64, os, random, re, subprocess, time, urllib.request

from browser_support import change_password, check, click_and_wait, fill, make_driver, run_and_report, shot, sign_in, submit
from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions

WIDTHS = (1280, 375)


def shots(driver, out, name):
    for width in WIDTHS:
        shot(driver, out, name, width)
    driver.set_window_size(1280, 900)


def no_horizontal_page_scroll(driver, name):
    """At 375 px the page itself must not scroll sideways (wide tables scroll inside .table-wrap)."""
    driver.set_window_size(375, 900)
    wide = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    driver.set_window_size(1280, 900)
    check(f"{name}: no sideways page scroll at 375 px", wide <= 1, f"{wide}px too wide")


# ---------- ID numbers (GB 11643-1999) ----------

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17):
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def make_id(birth, sequence):
    first17 = f"110105{birth}{sequence:03d}"
    return first17 + check_char(first17)


def spoil(id_number):
    """The same number with a wrong check character."""
    good = id_number[-1]
    bad = next(c for c in "0123456789" if c != good)
    return id_number[:-1] + bad


# ---------- Helpers for the scenario ----------

def find_estate(driver, base):
    """(id, name) of the first estate (小区) in the account's grid tree."""
    driver.get(base + "/grids")
    for row in driver.find_elements(By.CSS_SELECTOR, "table.table tbody tr"):
        badges = row.find_elements(By.CSS_SELECTOR, "td .badge")
        if badges and badges[0].text.strip() == "小区":
            link = row.find_element(By.CSS_SELECTOR, "td a[href^='/grids/']")
            return link.get_attribute("href").rstrip("/").split("/")[-1], link.text.strip()
    return None, None


def cookie_header(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def fetch(driver, url):
    request = urllib.request.Request(url, headers={"Cookie": cookie_header(driver)})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, dict(response.headers), response.read()


def run(base, username, password, new_password, out):
    rng = random.Random(time.time_ns())
    suffix = str(int(time.time()))[-5:]
    driver = make_driver(1280)
    try:
        # Sign in (the first sign-in may require a new password).
        sign_in(driver, base, username, password)
        if "/account/password" in driver.current_url:
            change_password(driver, password, new_password)
            print(f"note: the password of {username} is now {new_password}")
        check("staff signed in to the dashboard", driver.current_url.rstrip("/") == base, driver.current_url)

        # An estate in scope and a new building under it.
        estate_id, estate_name = find_estate(driver, base)
        if not check("an estate is in the account's scope", estate_id, "no 小区 row on /grids"):
            return
        building_name = f"测试楼{suffix}"
        driver.get(f"{base}/grids/new?parent_id={estate_id}")
        fill(driver, "name", building_name)
        fill(driver, "kind", "building")
        if driver.find_elements(By.NAME, "parent_id"):
            fill(driver, "parent_id", estate_id)
        submit(driver.find_element(By.NAME, "name"))
        check("building created under the estate", building_name in driver.page_source and re.search(r"/grids/\d+$", driver.current_url), driver.current_url)
        building_id = driver.current_url.rstrip("/").split("/")[-1]

        # Houses with the range form: units 1–2, floors 1–3, 2 per floor = 12 houses.
        click_and_wait(driver.find_element(By.CSS_SELECTOR, f"a[href='/buildings/{building_id}/houses']"))
        click_and_wait(driver.find_element(By.CSS_SELECTOR, f"a[href='/buildings/{building_id}/houses/new']"))
        for name, value in (("units_from", "1"), ("units_to", "2"), ("floors_from", "1"), ("floors_to", "3"), ("rooms_per_floor", "2")):
            fill(driver, name, value)
        click_and_wait(driver.find_element(By.CSS_SELECTOR, "button[name=preview]"))
        check("house range preview shows 12 houses", "共 12 套" in driver.page_source)
        shots(driver, out, "houses-new")
        click_and_wait(driver.find_element(By.XPATH, "//form[.//input[@name='mode' and @value='range']]//button[@type='submit' and not(@name)]"))
        check("houses created", f"/buildings/{building_id}/houses" in driver.current_url and "101" in driver.page_source, driver.current_url)
        rooms = driver.find_elements(By.CSS_SELECTOR, ".room-grid a.btn")
        check("building page lists 12 room buttons", len(rooms) == 12, f"{len(rooms)} rooms")
        shots(driver, out, "houses-index")
        no_horizontal_page_scroll(driver, "building page")

        # Register a resident in unit 1, room 101, first with a wrong ID number.
        click_and_wait(rooms[0])
        house_url = driver.current_url
        click_and_wait(driver.find_element(By.CSS_SELECTOR, "a[href^='/residents/new?house_id=']"))
        surname = rng.choice("鞠蔺闵芮湛訾禚鄢")
        resident_name = surname + rng.choice("晓婧珺琰昀玥")
        birth = f"19{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        good_id = make_id(birth, rng.randint(100, 999))
        phone = "139" + "".join(rng.choice("0123456789") for _ in range(8))
        fill(driver, "name", resident_name)
        fill(driver, "id_number", spoil(good_id))
        fill(driver, "phone", phone)
        fill(driver, "notes", "浏览器测试登记")
        submit(driver.find_element(By.NAME, "name"))
        error = driver.find_elements(By.CSS_SELECTOR, ".field.has-error #id_number ~ .field-error, #id_number-error")
        check("wrong check digit: message on the ID field", error and "校验位" in error[0].text, error[0].text if error else "no field error")
        check("other fields are kept", driver.find_element(By.NAME, "name").get_attribute("value") == resident_name
              and driver.find_element(By.NAME, "phone").get_attribute("value") == phone
              and "浏览器测试登记" in driver.find_element(By.NAME, "notes").get_attribute("value"))
        shots(driver, out, "resident-form-error")
        no_horizontal_page_scroll(driver, "resident form")

        fill(driver, "id_number", good_id)
        submit(driver.find_element(By.NAME, "name"))
        saved = re.search(r"/residents/(\d+)$", driver.current_url)
        check("resident saved with the corrected ID", saved and resident_name in driver.page_source, driver.current_url)
        resident_id = saved.group(1) if saved else ""
        check("detail page shows the masked ID", good_id[:4] + "*" * 10 + good_id[-4:] in driver.page_source)
        shots(driver, out, "resident-detail")
        no_horizontal_page_scroll(driver, "resident detail")

        # Search by the 2-character name.
        driver.get(f"{base}/residents?q={urllib.request.quote(resident_name)}")
        found = driver.find_elements(By.CSS_SELECTOR, f".residents-table a[href='/residents/{resident_id}']")
        check("search by 2-character name finds the resident", found)
        shots(driver, out, "residents-list")
        no_horizontal_page_scroll(driver, "residents list")

        # Import: one good row and one bad row (wrong check digit), dry run.
        import_name = rng.choice("裘邝桂") + rng.choice("子墨沐辰若溪")
        import_id = make_id(f"19{rng.randint(60, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}", rng.randint(100, 999))
        bad_id = spoil(make_id("19800101", rng.randint(100, 999)))
        header = "姓名,身份证号,手机号,小区,楼栋,单元,房号,与房屋关系,政治面貌,标签,备注"
        lines = [header,
                 f"{import_name},{import_id},13800138000,{estate_name},{building_name},1,201,常住,群众,,导入测试",
                 f"坏行测试,{bad_id},,{estate_name},{building_name},2,301,租住,,,"]
        csv_path = os.path.abspath(os.path.join(out, "residents-import-test.csv"))
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as f:
            f.write("\r\n".join(lines) + "\r\n")
        driver.get(base + "/residents/import")
        shots(driver, out, "import-form")
        driver.find_element(By.NAME, "file").send_keys(csv_path)
        dry_run = driver.find_element(By.NAME, "dry_run")
        if not dry_run.is_selected():
            dry_run.click()
        submit(dry_run)
        for _ in range(30):  # large files run in the background; this one is inline
            if "/residents/import/jobs/" in driver.current_url and "正在" not in driver.find_element(By.TAG_NAME, "main").text:
                break
            time.sleep(1)
            driver.refresh()
        page = driver.page_source
        check("import report page", "/residents/import/jobs/" in driver.current_url, driver.current_url)
        check("dry run reports 1 error row", "试导入发现 1 行错误" in page)
        error_rows = [r.text for r in driver.find_elements(By.XPATH, "//h2[contains(., '错误行')]/following::table[1]//tbody/tr")]
        check("bad row reported with its line number", any("第 3 行" in r and "校验位" in r for r in error_rows), " | ".join(error_rows))
        check("good row previewed", import_name in page)
        shots(driver, out, "import-report")
        no_horizontal_page_scroll(driver, "import report")

        # Export: the CSV starts with the UTF-8 BOM and contains the resident.
        status, headers, body = fetch(driver, base + "/residents/export.csv")
        check("export answers 200 as CSV", status == 200 and "csv" in headers.get("Content-Type", ""), f"{status} {headers.get('Content-Type')}")
        check("export starts with the UTF-8 BOM", body[:3] == b"\xef\xbb\xbf", repr(body[:8]))
        check("export contains the resident", resident_name in body.decode("utf-8", "replace"))

        # Roster: print view of the estate, saved as PDF, page 1 as PNG.
        driver.get(f"{base}/rosters/estate/{estate_id}")
        check("estate roster lists the resident", resident_name in driver.page_source and building_name in driver.page_source)
        check("roster has no site navigation", not driver.find_elements(By.CSS_SELECTOR, ".site-nav"))
        shots(driver, out, "roster")
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        options.orientation = "portrait"
        pdf = base64.b64decode(driver.print_page(options))
        pdf_path = os.path.join(out, "roster.pdf")
        with open(pdf_path, "wb") as f:
            f.write(pdf)
        check("roster PDF saved", pdf.startswith(b"%PDF"), f"{len(pdf)} bytes")
        result = subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", pdf_path, os.path.join(out, "roster-print")],
                                capture_output=True, text=True)
        pngs = [n for n in os.listdir(out) if n.startswith("roster-print") and n.endswith(".png")]
        check("roster page 1 converted to PNG", result.returncode == 0 and pngs, result.stderr.strip())

        # The house page now lists the resident.
        driver.get(house_url)
        check("house page lists the resident", resident_name in driver.page_source)
        shots(driver, out, "house-show")
    finally:
        driver.quit()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--username", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--new-password", default=None, help="used when the account must change its password (default: PASSWORD-new1)")
    ap.add_argument("--out", default="artifacts/screenshots")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    run_and_report(run, args.base_url.rstrip("/"), args.username, args.password,
                   args.new_password or args.password + "-new1", args.out)


if __name__ == "__main__":
    main()
