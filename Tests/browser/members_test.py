#!/usr/bin/env python3
"""Browser check of party members, as staff and a member would use them.

Against a seeded demo county: staff open the member list (filtered to in-service members who
have not reported), open the first one, open an account for the member (the one-time password
is read off the page), the member signs in on a 375 px phone, changes the password, opens the
own record from the dashboard, reports to the community (双报到) and enters a 自评; staff
confirm the report, placing the member in a grid, and the member sees it confirmed. Prints the
printable ledger to PDF (page 1 to PNG). Screenshots at 1280 px and 375 px go to --out.

usage: members_test.py --base-url http://127.0.0.1:PORT --username staff1 --password PW --out DIR
Prints PASS/FAIL lines and 'browser: N passed, N failed'; exits 1 on any failure.
"""
import argparse, base64, os, random, subprocess

from browser_support import change_password, check, click_and_wait, fill, make_driver, run_and_report, shot, sign_in, submit
from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions


def shots(driver, out, name):
    for width in (1280, 375):
        shot(driver, out, name, width)


def no_sideways_scroll(driver, name):
    driver.set_window_size(375, 900)
    wide = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(f"{name}: no sideways page scroll at 375 px", wide <= 1, f"{wide}px too wide")


def scenario(args):
    base, out = args.base_url.rstrip("/"), args.out
    os.makedirs(out, exist_ok=True)
    staff = make_driver(1280)
    phone = make_driver(375)
    try:
        sign_in(staff, base, args.username, args.password)
        staff.get(base + "/members?category=employed&reported=no")
        check("member list shows in-service members", "党员" in staff.title and staff.find_elements(By.CSS_SELECTOR, "td a[href^='/members/']"))
        shots(staff, out, "members-list")
        # The first in-service member without an account yet (earlier checks may have opened some).
        links = [a.get_attribute("href") for a in staff.find_elements(By.CSS_SELECTOR, "td a[href^='/members/']")]
        for link in links:
            staff.get(link)
            if staff.find_elements(By.NAME, "username"):
                break
        member_url = staff.current_url
        name = staff.find_element(By.TAG_NAME, "h1").text.split()[0]
        check("member record opens with masked ID", "**********" in staff.page_source, member_url)

        username = f"dy{random.randint(100000, 999999)}"
        fill(staff, "username", username)
        submit(staff.find_element(By.NAME, "username"))
        notice = staff.find_element(By.CSS_SELECTOR, ".flash-success").text
        check("account opened with a one-time password", "初始密码" in notice, notice)
        password = notice.split("初始密码：")[1].split("（")[0].strip()
        shots(staff, out, "member-account")

        # The member, on a phone.
        sign_in(phone, base, username, password)
        check("first sign-in asks for a new password", "/account/password" in phone.current_url, phone.current_url)
        change_password(phone, password, "member-pass-2026")
        click_and_wait(phone.find_element(By.CSS_SELECTOR, "a[href='/members/mine']"))
        check("the member's own record opens from the dashboard", name in phone.page_source, phone.current_url)
        no_sideways_scroll(phone, "member record")
        shot(phone, out, "member-own-record", 375)
        click_and_wait(phone.find_element(By.CSS_SELECTOR, "a[href$='/report']"))
        fill(phone, "employer", "县人民医院")
        fill(phone, "employer_branch", "县人民医院党委")
        fill(phone, "skills", "义诊、健康讲座")
        fill(phone, "available_times", "周六上午")
        no_sideways_scroll(phone, "report form")
        shot(phone, out, "member-report-form", 375)
        submit(phone.find_element(By.NAME, "employer"))
        phone.get(base + "/members/mine")
        check("the report waits for the community", "待确认" in phone.page_source)
        fill(phone, "grade", "excellent")
        submit(phone.find_element(By.NAME, "grade"))
        check("the member's 自评 is recorded", "优秀" in phone.page_source)

        # Staff confirm, placing the member in a grid.
        staff.get(member_url)
        check("staff see the submitted report", "确认报到" in staff.page_source)
        submit(staff.find_element(By.NAME, "grid_id"))
        check("staff confirmed the report", "已确认报到" in staff.page_source or "已确认" in staff.page_source)
        shots(staff, out, "member-confirmed")
        phone.get(base + "/members/mine")
        check("the member sees the report confirmed", "已确认" in phone.page_source)
        shot(phone, out, "member-confirmed-phone", 375)

        # The printable ledger, as a PDF.
        staff.get(base + "/members/ledger")
        pdf = base64.b64decode(staff.print_page(PrintOptions()))
        path = os.path.join(out, "members-ledger.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        check("ledger prints to PDF", pdf.startswith(b"%PDF"))
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", path, os.path.join(out, "members-ledger")], check=False)
    finally:
        staff.quit()
        phone.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True)
    run_and_report(lambda: scenario(parser.parse_args()))
