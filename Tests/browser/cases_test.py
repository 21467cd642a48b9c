#!/usr/bin/env python3
"""Browser check of closed-loop cases 诉求工单, mostly on a phone (375 px): a grid worker reports a
case with a photo taken on the phone; staff accept it and assign it to the community's property
company; the unit handler signs for it and resolves it; staff record an unsatisfied follow-up
that reopens it; the unit resolves it again; a satisfied follow-up; closed; the timeline shows
every step. Also the overdue list and the rates page. Screenshots at 375 and 1280 px go to --out.

Runs against a server on a database filled by `jinlin seed` (demo accounts `gridworker1`,
`staff1`, `coordinator1` and the unit handlers `unit<ID>` share one password).

usage: cases_test.py --base-url http://127.0.0.1:PORT --db DATA/jinlin.sqlite --password PW --out DIR
"""
import argparse, os, random, sqlite3, tempfile

from browser_support import check, click_and_wait, fill, make_driver, run_and_report, shot, sign_in, submit
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from wishes_test import jpeg_with_gps, photo_displayed
from volunteering_test import no_horizontal_page_scroll

WIDTHS = (375, 1280)


def shots(driver, out, name):
    for width in WIDTHS:
        shot(driver, out, name, width)
    driver.set_window_size(375, 900)


def property_handler(db_path, worker):
    """The handler account of the property company of the grid worker's community."""
    db = sqlite3.connect(db_path, timeout=10)
    try:
        (path,) = db.execute("SELECT g.path FROM users u JOIN grids g ON g.id = u.scope_grid_id WHERE u.username = ?", (worker,)).fetchone()
        community_id = int(path.strip("/").split("/")[0])
        (name,) = db.execute("SELECT name FROM grids WHERE id = ?", (community_id,)).fetchone()
        (unit_id,) = db.execute("SELECT id FROM units WHERE name = ?", (name + "物业",)).fetchone()
        return f"unit{unit_id}", unit_id
    finally:
        db.close()


def form_of(driver, action):
    return driver.find_element(By.CSS_SELECTOR, f"form[action$='/{action}']")


def send(driver, action, **fields):
    form = form_of(driver, action)
    for name, value in fields.items():
        field = form.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        elif field.get_attribute("type") == "radio":
            form.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']").click()
        else:
            field.clear()
            field.send_keys(value)
    # Sections folded in <details> are opened first.
    driver.execute_script("var d = arguments[0].closest('details'); if (d) d.open = true;", form)
    click_and_wait(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def run(args):
    os.makedirs(args.out, exist_ok=True)
    handler_name, unit_id = property_handler(args.db, "gridworker1")
    photo = os.path.join(tempfile.mkdtemp(), "scene.jpg")
    description = f"5号楼北侧井盖缺失{random.randint(1000, 9999)}"

    worker = make_driver(375)
    staff = make_driver(1280)
    handler = make_driver(375)
    try:
        jpeg_with_gps(photo, worker)
        # The grid worker reports on a phone, with a photo.
        sign_in(worker, args.base_url, "gridworker1", args.password)
        worker.get(args.base_url + "/cases/new")
        check("worker: the photo field opens the camera", worker.find_element(By.NAME, "photo").get_attribute("capture") == "environment")
        fill(worker, "category", "2")
        fill(worker, "description", description)
        fill(worker, "location", "5号楼北侧人行道")
        worker.find_element(By.NAME, "photo").send_keys(photo)
        no_horizontal_page_scroll(worker, "/cases/new")
        shots(worker, args.out, "case-report-form")
        submit(worker.find_element(By.NAME, "description"))
        check("worker: case reported", "已提交，工单编号" in worker.page_source, worker.current_url)
        case_url = worker.current_url
        case_id = case_url.rstrip("/").split("/")[-1]
        check("worker: the photo is shown", len(worker.find_elements(By.CSS_SELECTOR, ".photo-strip img")) == 1
              and photo_displayed(worker, ".photo-strip img"))
        shots(worker, args.out, "case-reported")

        # Staff accept and assign it to the property company.
        sign_in(staff, args.base_url, "staff1", args.password)
        staff.get(case_url)
        send(staff, "accept", note="已受理")
        check("staff: accepted", "已受理待派单" in staff.page_source)
        send(staff, "assign", unit_id=str(unit_id))
        check("staff: assigned", "已派单待签收" in staff.page_source)

        # The unit handler signs for it and resolves it on a phone.
        sign_in(handler, args.base_url, handler_name, args.password)
        handler.get(args.base_url + "/cases")
        check("handler: the case is in the unit's list", f"#{case_id} " in handler.page_source)
        shots(handler, args.out, "case-handler-list")
        handler.get(case_url)
        send(handler, "accept")
        check("handler: signed for", "办理中" in handler.page_source)
        send(handler, "resolve", note="已补装井盖")
        check("handler: resolved", "已办结待回访" in handler.page_source)

        # Staff: unsatisfied follow-up reopens it.
        staff.get(case_url)
        send(staff, "visit", satisfaction="unsatisfied", note="井盖尺寸不合，仍有缝隙")
        check("staff: unsatisfied reopens the case", "办理中" in staff.page_source and "回访不满意" in staff.page_source)

        # The unit resolves it again.
        handler.get(case_url)
        send(handler, "resolve", note="已更换合适尺寸的井盖")
        check("handler: resolved again", "已办结待回访" in handler.page_source)
        shots(handler, args.out, "case-handler-resolved")

        # Satisfied; closed; the timeline shows every step.
        staff.get(case_url)
        send(staff, "visit", satisfaction="satisfied", note="居民表示满意")
        send(staff, "close")
        check("staff: closed", "已关闭" in staff.page_source)
        timeline = staff.find_element(By.CSS_SELECTOR, "ol.timeline").text
        for step in ["反映问题", "受理工单", "派单", "部门签收", "办结工单", "回访不满意，重新办理", "回访", "关闭工单"]:
            check(f"timeline shows {step}", step in timeline)
        check("timeline: two resolutions", timeline.count("办结工单") == 2)
        shots(staff, args.out, "case-closed")
        worker.get(case_url)
        check("worker: sees the closed case", "已关闭" in worker.page_source)

        # Overdue list and rates.
        staff.get(args.base_url + "/cases/overdue")
        check("staff: overdue page", "超时督办" in staff.page_source)
        shots(staff, args.out, "case-overdue")
        coordinator = make_driver(1280)
        try:
            sign_in(coordinator, args.base_url, "coordinator1", args.password)
            coordinator.get(args.base_url + "/cases/rates")
            check("coordinator: rates page", "响应及时率" in coordinator.page_source and "按承办部门" in coordinator.page_source)
            shots(coordinator, args.out, "case-rates")
        finally:
            coordinator.quit()
    finally:
        worker.quit()
        staff.quit()
        handler.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True)
    run_and_report(run, parser.parse_args())
