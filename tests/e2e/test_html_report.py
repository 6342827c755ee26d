"""The HTML report in a real browser (headless Chromium from Debian's `chromium` and
`chromium-driver` packages, driven by selenium)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop_api"
INJECTED_NAME = "<img src=x onerror=window.pwnedByPath=1>.py"


def make_project(tmp_path: Path) -> Path:
    project = tmp_path / "shop_api"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".bastion_cache"))
    (project / INJECTED_NAME).write_text(
        "try:\n    f()\nexcept:  # <script>window.pwnedByCode=1</script>\n    g()\n"
    )
    return project


def report(project: Path, fmt: str, out: Path) -> None:
    result = CliRunner().invoke(
        cli, ["check", str(project), "--format", fmt, "-o", str(out), "--no-cache"]
    )
    assert result.exit_code == 1, result.output


def test_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    html_path = tmp_path / "report.html"
    report(project, "html", html_path)
    html = html_path.read_text()
    assert "<script>window.pwnedByCode" not in html
    assert "&lt;script&gt;window.pwnedByCode=1&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror" in html
    # no network: nothing is loaded from elsewhere (links to docs in the text are fine)
    import re

    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Chromium: `apt-get install chromium chromium-driver` (Debian packages)",
)
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    project = make_project(tmp_path)
    html_path = tmp_path / "report.html"
    json_path = tmp_path / "report.json"
    report(project, "html", html_path)
    report(project, "json", json_path)
    findings = json.loads(json_path.read_text())["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    assert findings and errors and len(errors) < len(findings)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER or ""))
    try:
        driver.set_window_size(1400, 1000)
        driver.get(html_path.as_uri())
        rows = driver.find_elements(By.CSS_SELECTOR, "#findings tr.finding")
        assert len(rows) == len(findings)
        shown = {(r.get_attribute("data-rule"), r.get_attribute("data-path")) for r in rows}
        assert shown == {(f["rule"], f["path"]) for f in findings}
        assert (("ERR001", INJECTED_NAME)) in shown

        Select(driver.find_element(By.ID, "filter-severity")).select_by_visible_text("error")
        visible = [r for r in rows if r.is_displayed()]
        assert len(visible) == len(errors)
        assert driver.find_element(By.ID, "shown").text == f"{len(errors)} shown"

        # the injected path and code line were rendered as text and ran nothing
        assert driver.execute_script("return window.pwnedByPath === undefined")
        assert driver.execute_script("return window.pwnedByCode === undefined")
        driver.find_element(By.ID, "findings").screenshot(str(tmp_path / "findings.png"))
        driver.save_screenshot(str(tmp_path / "report.png"))
        assert (tmp_path / "report.png").stat().st_size > 10_000
    finally:
        driver.quit()
