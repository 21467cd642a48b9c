#!/usr/bin/env python3
"""Browser check of the monthly report 月度报表 on paper: a coordinator of a seeded community opens
/reports/monthly (last month), headless Chromium prints it to PDF through the DevTools protocol
(`Page.printToPDF`, the page's own @page size), and scripts check the PDF rather than an eye:

* every page is A4 portrait (pdfinfo: 595 x 842 pt, within a point);
* no table row is split across pages: before printing, every cell of every report table gets a
  start and an end marker (tiny white text, QZ<row>A / QZ<row>B, set through the CSSOM); pdftotext reads each page, and each
  row's markers must all be on one page;
* the running head (scope and month) and the page number are on every page;
* the SVG charts render: they have a size on the page, and their labels are text in the PDF.

Page 1 becomes a PNG with pdftoppm; the PDF and the PNG are saved in --out (look at the PNG).

usage: reports_test.py --base-url http://127.0.0.1:PORT --password PW --out DIR [--username coordinator1]
Prints PASS/FAIL lines and 'browser: N passed, N failed'; exits 1 on any failure.
"""
import argparse, base64, collections, os, re, shutil, subprocess, tempfile

from browser_support import check, make_driver, run_and_report, sign_in
from selenium.webdriver.common.by import By

A4 = (595.28, 841.89)

MARK_ROWS = """
let n = 0;
for (const row of document.querySelectorAll('article.report table tr')) {
  n += 1;
  for (const cell of row.cells) {
    const a = document.createElement('span'), b = document.createElement('span');
    for (const m of [a, b]) { m.style.fontSize = '2px'; m.style.color = '#fff'; m.style.lineHeight = '0'; }
    a.textContent = ' QZ' + n + 'A '; b.textContent = ' QZ' + n + 'B ';
    cell.prepend(a); cell.append(b);
  }
}
return n;
"""


def pdf_pages(path):
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", path], capture_output=True, text=True, check=True).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]
    return sizes


def page_text(path, page):
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", path, "-"],
                          capture_output=True, text=True, check=True).stdout


def run(args):
    for tool in ("pdfinfo", "pdftotext", "pdftoppm"):
        if not shutil.which(tool):
            check(f"{tool} is installed (poppler-utils)", False)
            return
    os.makedirs(args.out, exist_ok=True)
    driver = make_driver(1280)
    try:
        base = args.base_url.rstrip("/")
        sign_in(driver, base, args.username, args.password)
        driver.get(base + "/reports/monthly")
        title = driver.find_element(By.CSS_SELECTOR, "article.report h1").text
        check("the monthly report opens for the coordinator", "工作月报" in title, title)
        scope_month = driver.find_element(By.CSS_SELECTOR, ".print-running-head").get_attribute("textContent").strip()
        charts = driver.find_elements(By.CSS_SELECTOR, "article.report svg.chart")
        sizes = [driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", c) for c in charts]
        check("the report has bar and trend charts drawn as inline SVG", len(charts) >= 2, f"{len(charts)} charts")
        check("every chart has a size on the page", all(w > 200 and h > 40 for w, h in sizes), str(sizes))
        check("no script is needed: the page has no <script>", not driver.find_elements(By.TAG_NAME, "script"))

        rows = driver.execute_script(MARK_ROWS)
        check("the report's tables have rows to check", rows > 20, f"{rows} rows")
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": False,
                                                         "displayHeaderFooter": False})
        path = os.path.join(args.out, "report-monthly.pdf")
        with open(path, "wb") as f:
            f.write(base64.b64decode(pdf["data"]))
    finally:
        driver.quit()

    sizes = pdf_pages(path)
    check("the PDF has pages", len(sizes) >= 2, f"{len(sizes)} pages")
    not_a4 = [(i + 1, s) for i, s in enumerate(sizes) if abs(s[0] - A4[0]) > 1.5 or abs(s[1] - A4[1]) > 1.5]
    check(f"every page is A4 portrait ({len(sizes)} pages)", not not_a4, str(not_a4[:5]))

    pages_of = collections.defaultdict(set)
    texts = []
    for page in range(1, len(sizes) + 1):
        text = page_text(path, page)
        texts.append(text)
        for number in re.findall(r"QZ(\d+)[AB]", text):
            pages_of[int(number)].add(page)
    split = sorted(n for n, pages in pages_of.items() if len(pages) > 1)
    check(f"every marked row is in the PDF ({rows} rows)", len(pages_of) == rows, f"{len(pages_of)} of {rows} found")
    check("no table row is split across pages", not split, f"rows split: {split[:10]}")

    head = scope_month.split("·")[0].strip()
    missing_head = [i + 1 for i, t in enumerate(texts) if head not in t or "工作月报" not in t]
    check("the running head (scope and month) is on every page", not missing_head, f"missing on pages {missing_head}")
    missing_number = [i + 1 for i, t in enumerate(texts) if not re.search(rf"第\s*{i + 1}\s*页", t)]
    check("every page carries its number", not missing_number, f"missing on pages {missing_number}")
    all_text = "\n".join(texts)
    check("the chart labels are text in the PDF (the SVG rendered)", "近 12 个月走势" in all_text and "本月" in all_text)
    sections = ["一、居民", "二、党员队伍", "三、志愿服务", "四、微心愿", "五、积分", "六、诉求办理"]
    check("every section is printed, cases included", all(s in all_text for s in sections),
          str([s for s in sections if s not in all_text]))
    check("the cases' tables and trend are printed", all(t in all_text for t in ["按诉求类别", "按承办部门", "月末超时未办结的工单",
                                                                                 "诉求办理近 12 个月走势"]))

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "80", "-png", path, os.path.join(tmp, "page")], check=True)
        produced = [f for f in os.listdir(tmp) if f.endswith(".png")]
        check("pdftoppm turns page 1 into a PNG", len(produced) == 1, str(produced))
        if produced:
            shutil.copy(os.path.join(tmp, produced[0]), os.path.join(args.out, "report-monthly-page1.png"))
    print(f"saved {path} and report-monthly-page1.png ({len(sizes)} pages)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--username", default="coordinator1")
    parser.add_argument("--out", required=True)
    run_and_report(run, parser.parse_args())
