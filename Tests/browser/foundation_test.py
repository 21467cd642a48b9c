#!/usr/bin/env python3
"""Browser check of the foundation, as a person would use it (Chromium + Selenium).

Signs in as the first-run admin (changing the initial password), creates a community node and a
staff account scoped to it, signs out, signs in as that account (changing its initial password)
and looks at the dashboard and grid pages. Screenshots at 1280 px and 375 px go to --out.

usage: foundation_test.py --base-url http://127.0.0.1:PORT --admin-password PW --out DIR
Prints 'N passed, N failed' and exits 1 on any failure.
"""
import argparse, os, time

from browser_support import change_password, check, fill, make_driver, run_and_report, shot, sign_in, sign_out, submit



def run(base, admin_password, out):
    driver = make_driver(1280)
    try:
        sign_in(driver, base, "admin", admin_password)
        check("admin first sign-in goes to the password page", "/account/password" in driver.current_url, driver.current_url)
        change_password(driver, admin_password, "admin-new-pass-1")
        check("admin changed the initial password", driver.current_url.rstrip("/") == base, driver.current_url)
        for width in (1280, 375):
            shot(driver, out, "admin-dashboard", width)

        suffix = str(int(time.time()))[-6:]
        community = f"浏览器测试社区{suffix}"
        driver.get(base + "/grids/new")
        fill(driver, "name", community)
        submit(fill(driver, "kind", "community"))
        check("grid created", community in driver.page_source, driver.current_url)
        grid_id = driver.current_url.rstrip("/").split("/")[-1]
        for width in (1280, 375):
            shot(driver, out, "grid-detail", width)

        username = f"staff{suffix}"
        driver.get(base + "/admin/users/new")
        fill(driver, "username", username)
        fill(driver, "display_name", "张晓梅")
        fill(driver, "role", "staff")
        fill(driver, "scope_grid_id", grid_id)
        submit(fill(driver, "password", "staff-initial-1"))
        check("user created", username in driver.page_source and "/admin/users/" in driver.current_url, driver.current_url)
        for width in (1280, 375):
            shot(driver, out, "user-created", width)

        sign_out(driver)
        check("signed out to the login page", "/login" in driver.current_url, driver.current_url)
        for width in (1280, 375):
            shot(driver, out, "login", width)

        sign_in(driver, base, username, "staff-initial-1")
        check("staff first sign-in asks for a new password", "/account/password" in driver.current_url, driver.current_url)
        change_password(driver, "staff-initial-1", "staff-own-pass-1")
        check("staff sees the dashboard", "张晓梅" in driver.page_source, driver.current_url)
        for width in (1280, 375):
            shot(driver, out, "staff-dashboard", width)
        driver.get(base + "/grids")
        check("staff sees their community in the grid tree", community in driver.page_source)
        for width in (1280, 375):
            shot(driver, out, "staff-grids", width)
        driver.get(base + "/admin/users")
        check("staff is refused the admin pages", "没有权限" in driver.page_source)
    finally:
        driver.quit()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--out", default="artifacts/screenshots")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    run_and_report(run, args.base_url.rstrip("/"), args.admin_password, args.out)


if __name__ == "__main__":
    main()
