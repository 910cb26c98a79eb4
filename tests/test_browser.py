"""The HTML outputs as a person sees them, in headless Chromium (Debian's chromium and
chromium-driver; .ci/run installs them): `screen --format html` and `batch --report`. Each page
loads with no console error, shows the verdict and every criterion id, fits the width of an A4 and
a Letter page without a horizontal scroll, prints to PDF on both papers, and its screenshot has
the window's size. TRIALSCREEN_UPDATE_SCREENSHOTS=1 also writes the screenshots the README shows
(docs/images/)."""

from __future__ import annotations

import base64
import os
import shutil
import struct

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
IMAGES = ROOT / "docs" / "images"
WINDOW = (1000, 1400)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them; "
           "apt-get install chromium chromium-driver): the browser test is skipped")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _look(browser, path, screenshot: str):
    """Open the page; its visible text, console errors, and its screenshot checked and kept."""
    browser.set_window_size(*WINDOW)
    browser.get(path.as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    text = browser.find_element("tag name", "body").text      # what is displayed, not what is hidden
    png = browser.get_screenshot_as_png()
    width, height = _png_size(png)
    inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    assert (width, height) == tuple(inner)
    if os.environ.get("TRIALSCREEN_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / screenshot).write_bytes(png)
    return text


def _fits_paper(browser) -> None:
    """No horizontal scroll at the printable width of A4 (210 mm) and Letter (8.5 in) less margins,
    and a PDF on each paper."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    for name, width_cm, height_cm in (("A4", 21.0, 29.7), ("Letter", 21.59, 27.94)):
        browser.set_window_size(int((width_cm - 2.4) / 2.54 * 96), WINDOW[1])
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is wider than {name} paper by {overflow}px"
        options = PrintOptions()
        options.page_width, options.page_height = width_cm, height_cm
        pdf = base64.b64decode(browser.print_page(options))
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2   # the pages and their tree


def test_the_screening_page_in_a_browser(run, tmp_path, browser):
    page = tmp_path / "record.html"
    result = run("screen", "examples/patients/NCT05378971-needs-review.json", "--trial", "NCT05378971",
                 "--format", "html", "--out", str(page))
    assert result.exit_code == 0, result.stderr
    text = _look(browser, page, "screen-html.png")
    assert "NEEDS REVIEW" in text
    for cid in [f"I{i}" for i in range(1, 8)] + [f"E{i}" for i in range(1, 12)]:
        assert f"\n{cid}" in text or text.startswith(cid), cid
    assert "Has the patient signed the informed consent form?" in text      # the checklist
    assert "Criteria SHA-256" in text and "Reviewed by" in text              # the stamp, the reviewer line
    _fits_paper(browser)


def test_the_feasibility_report_in_a_browser(run, tmp_path, browser):
    report = tmp_path / "report.html"
    result = run("batch", "examples/batch/registry.tsv", "--columns", "examples/batch/registry-columns.yaml",
                 "--trial", "NCT05378971", "--as-of", "2025-06-02", "--out", str(tmp_path / "out.csv"),
                 "--report", str(report), "--quiet")
    assert result.exit_code == 0, result.stderr
    text = _look(browser, report, "report-html.png")
    assert "Feasibility report" in text and "Attrition funnel" in text and "Most often missing" in text
    assert "needs review 5" in text and "ineligible 55" in text
    charts = browser.find_elements("css selector", "svg.chart")
    assert len(charts) == 3 and all(c.is_displayed() and c.size["height"] > 10 for c in charts)
    _fits_paper(browser)
