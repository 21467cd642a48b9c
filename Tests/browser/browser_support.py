"""Helpers the browser checks share: a headless Chromium from Debian's packages, form filling
that waits for each new page, screenshots of whole pages, and PASS/FAIL bookkeeping ending in
the closing line 'browser: N passed, N failed'."""
import os, sys, traceback

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

RESULTS = []


def check(name, condition, detail=""):
    RESULTS.append((name, bool(condition)))
    print(f"{'PASS' if condition else 'FAIL'} {name}{': ' + detail if detail and not condition else ''}")
    return bool(condition)


def make_driver(width):
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={width},900", "--lang=zh-CN"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def fill(driver, name, value):
    field = driver.find_element(By.NAME, name)
    if field.tag_name == "select":
        Select(field).select_by_value(value)
    else:
        field.clear()
        field.send_keys(value)
    return field


def click_and_wait(element):
    """Click something that loads a new page and wait until the old page is gone, so the checks
    that follow never read the page being left."""
    driver = element.parent
    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def old_page_gone(_):
        # Chromium reports a detached node either as a stale element or as "Node with given id
        # does not belong to the document", depending on timing; both mean the page changed.
        try:
            old_page.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 20).until(old_page_gone)


def submit(field):
    click_and_wait(field.find_element(By.XPATH, "./ancestor::form").find_element(By.CSS_SELECTOR, "button[type=submit]"))


def sign_in(driver, base, username, password):
    driver.get(base + "/login")
    fill(driver, "username", username)
    submit(fill(driver, "password", password))


def change_password(driver, current, new):
    fill(driver, "current_password", current)
    fill(driver, "new_password", new)
    submit(fill(driver, "confirm_password", new))


def sign_out(driver):
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form.logout-form button"))


def shot(driver, out, name, width):
    driver.set_window_size(width, 900)
    # The window is taller than the viewport (browser chrome): add the difference so the whole page fits.
    chrome, height = driver.execute_script(
        "return [window.outerHeight - window.innerHeight, Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)]")
    driver.set_window_size(width, min(max(height, 757) + chrome, 6000))
    path = os.path.join(out, f"{name}-{width}.png")
    driver.save_screenshot(path)
    return path


def run_and_report(run, *args):
    """Runs a scenario; an exception counts as a failure. Prints the closing line and exits 1 on
    any failure."""
    try:
        run(*args)
    except Exception:
        traceback.print_exc()
        RESULTS.append(("browser run completed", False))
    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"browser: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
