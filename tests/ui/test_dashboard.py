"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium).

One browser and one emulator for the module; each test works in its own tenant and moves between
pages by changing the URL fragment, never by reloading (checked with a marker set on first load).
Screenshots go to out/screenshots/.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import create_app
from mockserver.tools.report import report_settings
from tests.media import speech_like, wav_bytes
from tests.servers import serve
from tests.system import unavailable

INSTALL = "apt-get install -y chromium chromium-driver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required", "--window-size=1440,900",
)


REPORT = {
    "provider": "boson",
    "target": {"name": "staging", "base_url": "https://boson.example.test", "loopback": False},
    "tier": "core",
    "started": 1_790_000_000.0,
    "duration_s": 12.5,
    "summary": "1 PASS, 1 FAIL, 1 WARN, 1 NA (4 boson clauses)",
    "score": {"boson": 0.5},
    "coverage": {"operations": 0.8, "not_applicable": ["BOSON-WEBHOOKS"]},
    "clauses": [
        {"id": "BOSON-AUTH-MISSING-KEY-401", "level": "MUST", "status": "PASS", "reason": "401 as documented",
         "sentence": "A request without an Authorization header is answered 401.",
         "source": "D-auth (docs.boson.ai/authentication); openapi/boson.yaml Unauthorized", "tests": ["t::a"]},
        {"id": "BOSON-STREAM-FIRST-BYTES", "level": "MUST", "status": "FAIL",
         "reason": "the init segment arrived after 9.8 s (limit 5 s)",
         "sentence": "A stream sends its init segment within 5 s.", "source": "openapi/boson.yaml stream",
         "tests": ["t::b"]},
        {"id": "BOSON-HEADERS-REQUEST-ID", "level": "SHOULD", "status": "WARN", "reason": "no X-Request-Id header",
         "sentence": "Responses carry a request id.", "source": "D-errors", "tests": []},
        {"id": "BOSON-WEBHOOKS", "level": "MUST", "status": "NA", "reason": "the target has no webhooks",
         "sentence": "Webhooks are signed.", "source": "D-webhooks", "tests": []},
    ],
    "tests": [{"nodeid": "t::b", "outcome": "failed", "duration_s": 9.9, "clauses": ["BOSON-STREAM-FIRST-BYTES"],
               "request_ids": [], "message": "init segment late"}],
}


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dashboard_url(report_file: Path) -> Iterator[str]:
    """An emulator set up as `avatar-emulator report report.json` sets it up."""
    with serve(create_app(report_settings(report_file))) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        unavailable(INSTALL)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("pip install -e '.[dev]' (selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    # The driver's path is given: Selenium Manager is never asked to download anything.
    driver = webdriver.Chrome(service=Service(executable_path=str(chromedriver)), options=options)
    driver.set_script_timeout(20)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The dashboard in the module's browser, opened once; tests move by fragment only."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver = driver
        self.base = base
        self.marker = ""

    def open(self, fragment: str) -> None:
        if not self.driver.current_url.startswith(f"{self.base}/_emulator/ui"):
            self.driver.get(f"{self.base}/_emulator/ui#{fragment}")
            self.marker = secrets.token_hex(8)
            self.js(f"window.__loadedOnce = '{self.marker}'")
        else:
            self.js("location.hash = arguments[0]", fragment)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait(self, what: str, condition: Callable[[], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                self.shot(f"timeout-{what.replace(' ', '-')}")
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.1)

    def text(self, selector: str) -> str:
        return str(self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector))

    def click(self, selector: str) -> None:
        self.js("document.querySelector(arguments[0]).click()", selector)

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def assert_not_reloaded(self) -> None:
        assert self.js("return window.__loadedOnce") == self.marker, "the page was reloaded"

    def assert_no_console_errors(self) -> None:
        """Script errors, CSP refusals and failed loads all land in the console as SEVERE."""
        errors = [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], errors


@pytest.fixture(scope="module")
def page(browser: Any, dashboard_url: str) -> Page:
    return Page(browser, dashboard_url)


@pytest.fixture(autouse=True)
def _clean_console(page: Page) -> Iterator[None]:
    page.driver.get_log("browser")  # start each test with an empty console log
    yield
    page.assert_no_console_errors()


@pytest.fixture
def boson(dashboard_url: str, tenant: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer bai-dashboard-secret", "X-Emulator-Tenant": tenant}
    with httpx.Client(base_url=dashboard_url, headers=headers, timeout=60) as client:
        yield client


def video_body(face: str, speech_seconds: float) -> dict[str, str]:
    speech = "data:audio/wav;base64," + base64.b64encode(wav_bytes(speech_like(speech_seconds))).decode()
    return {"ref_image": face, "input": speech}


def status_of(dashboard_url: str, tenant: str, job_id: str) -> str:
    jobs = httpx.get(f"{dashboard_url}/_emulator/jobs", params={"tenant": tenant}).json()["jobs"]
    return str(next(job["provider_status"] for job in jobs if job["id"] == job_id))


def current_time(page: Page) -> float:
    return float(page.js("const v = document.querySelector('#player-video'); return v ? v.currentTime : -1"))


def test_a_created_job_appears_completes_and_plays(page: Page, boson: httpx.Client, tenant: str,
                                                    face_data_uri: str) -> None:
    page.open(f"/jobs?tenant={tenant}")
    page.wait("the empty jobs page", lambda: "No jobs in" in page.text("#job-grid"))
    created = boson.post("/v1/videos", json=video_body(face_data_uri, 3.0))
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    card = f'[data-job-id="{job_id}"]'
    page.wait("the job's card", lambda: page.js("return !!document.querySelector(arguments[0])", card))
    page.wait("the job to complete", lambda: page.js(
        "return document.querySelector(arguments[0] + ' .badge').dataset.status", card) == "completed", timeout=90)
    page.wait("its thumbnail", lambda: page.js(
        "const i = document.querySelector(arguments[0] + ' img'); return i.complete && i.naturalWidth > 0", card))
    page.click(card)
    page.wait("the MP4 player", lambda: page.js(
        "const v = document.querySelector('#player-video'); return v && v.dataset.mode === 'video'"))
    first = page.wait("playback to start", lambda: current_time(page) > 0.1 and current_time(page), timeout=20)
    later = page.wait("playback to advance", lambda: current_time(page) > first + 0.2 and current_time(page))
    assert later > first
    page.shot("jobs")
    page.assert_not_reloaded()


def test_a_live_stream_plays_before_the_render_completes(page: Page, boson: httpx.Client, tenant: str,
                                                         dashboard_url: str, face_data_uri: str) -> None:
    pace = httpx.post(f"{dashboard_url}/_emulator/clock", params={"tenant": tenant}, json={"pace": "realtime"})
    assert pace.status_code == 200
    page.open(f"/jobs?tenant={tenant}")
    created = boson.post("/v1/videos", json=video_body(face_data_uri, 6.0))  # renders for 2 + 6 s of emulated time
    job_id = created.json()["id"]
    card = f'[data-job-id="{job_id}"]'
    page.wait("the job's card", lambda: page.js("return !!document.querySelector(arguments[0])", card))
    page.click(card)
    page.wait("the live player", lambda: page.js(
        "const v = document.querySelector('#player-video'); return v && v.dataset.mode === 'live'"))
    page.wait("live playback", lambda: current_time(page) > 0.2, timeout=20)
    assert status_of(dashboard_url, tenant, job_id) == "in_progress"  # playing, and the render is not complete
    assert page.js("return document.querySelector('#player-video').dataset.phase") == "playing"
    assert "LIVE" in page.text("#viewer")
    page.shot("live")
    page.assert_not_reloaded()


def test_a_fault_rule_added_in_the_page_fires_and_the_journal_shows_it(
    page: Page, boson: httpx.Client, tenant: str, face_data_uri: str
) -> None:
    page.open(f"/faults?tenant={tenant}")
    page.wait("the operations", lambda: page.js("return document.querySelector('#fault-operation').options.length > 5"))
    page.js("const s = document.querySelector('#fault-operation'); s.value = 'createVideo'; "
            "s.dispatchEvent(new Event('change'))")
    page.click('#fault-effect [data-effect="error"]')
    page.js("document.querySelector('#fault-status').value = '429'")
    page.click('#fault-form button[type="submit"]')
    page.wait("the rule in the list", lambda: "HTTP 429" in page.text("#fault-table"))
    rule_id = page.js("return document.querySelector('#fault-table [data-rule]').dataset.rule")

    refused = boson.post("/v1/videos", json=video_body(face_data_uri, 1.0))
    assert refused.status_code == 429 and refused.json()["error"]["type"] == "all_replicas_busy"
    assert refused.headers["x-emulator-fault"] == rule_id
    assert boson.post("/v1/videos", json={"input": "no image"}).status_code == 400  # a near miss for the check below

    page.click('#nav [data-page="journal"]')
    row = f'#journal-table tr[data-fault="{rule_id}"]'
    page.wait("the faulted row", lambda: page.js("return !!document.querySelector(arguments[0])", row))
    assert page.js("return document.querySelector(arguments[0]).dataset.status", row) == "429"
    assert rule_id in page.text(row) and "createVideo" in page.text(row)
    page.click(row)
    page.wait("the detail view", lambda: "all_replicas_busy" in page.text("#journal-detail"))
    shown_key = page.js("""return [...document.querySelectorAll('#journal-detail .kv tr')]
        .filter((row) => row.cells[0].textContent === 'authorization').map((row) => row.cells[1].textContent)""")
    assert shown_key == ["***"]
    assert "bai-dashboard-secret" not in str(page.js("return document.body.innerHTML"))

    page.js("document.querySelector('#verify-form textarea').value = arguments[0]", '{"status": 200}')
    page.click('#verify-form button[type="submit"]')
    page.wait("the check's verdict", lambda: "Near misses" in page.text("#verdict"))
    assert "status=429 (wanted 200)" in page.text("#verdict") and "status=400 (wanted 200)" in page.text("#verdict")
    assert page.js("return document.querySelectorAll('#journal-table tr.near').length") == 2
    page.shot("journal")
    page.assert_not_reloaded()


def test_a_report_file_shows_its_fail_clause_with_the_reason(page: Page, report_file: Path) -> None:
    page.open("/report")
    clause = '[data-clause="BOSON-STREAM-FIRST-BYTES"]'
    page.wait("the FAIL clause", lambda: page.js("return !!document.querySelector(arguments[0])", clause))
    assert page.js("return document.querySelector(arguments[0]).dataset.status", clause) == "FAIL"
    assert "the init segment arrived after 9.8 s (limit 5 s)" in page.text(clause)
    assert page.js("return document.querySelector('#clauses .clause').dataset.clause") == "BOSON-STREAM-FIRST-BYTES"
    spec_link = page.js("return document.querySelector(arguments[0] + ' .source a').href", clause)
    assert spec_link.endswith("/openapi/boson.yaml")
    assert page.js("return document.querySelector('[data-clause=\"BOSON-AUTH-MISSING-KEY-401\"] .source a').href") \
        == "https://docs.boson.ai/authentication"
    assert "WARN" in page.text('[data-clause="BOSON-HEADERS-REQUEST-ID"]')
    assert "50.0%" in page.text("#report")  # the score, when the report has one
    assert "80.0%" in page.text("#report") and "1: BOSON-WEBHOOKS" in page.text("#report")  # and its coverage
    page.shot("report")

    legacy = {k: v for k, v in REPORT.items() if k not in ("score", "coverage")}  # as reports were before both
    legacy["clauses"] = [c for c in REPORT["clauses"] if c["status"] != "WARN"]  # type: ignore[union-attr]
    report_file.write_text(json.dumps(legacy), encoding="utf-8")
    page.open("/jobs")
    page.open("/report")
    page.wait("the report without a score", lambda: "Pass rate" in page.text("#report"))
    assert "the init segment arrived after 9.8 s" in page.text(clause)
    assert "Coverage" not in page.text("#report")
    page.assert_not_reloaded()


def test_every_page_renders_and_the_clock_page_drives_the_clock(page: Page, tenant: str, dashboard_url: str) -> None:
    page.open(f"/tenants?tenant={tenant}")
    titles = {"tenants": "Tenants", "jobs": "Jobs", "journal": "Journal", "faults": "Faults", "clock": "Clock",
              "webhooks": "Webhooks", "report": "Conformance report"}
    for page_id, title in titles.items():
        page.click(f'#nav [data-page="{page_id}"]')
        page.wait(f"the {page_id} page", lambda title=title: page.text("#view h1") == title)
    page.click('#nav [data-page="clock"]')
    page.wait("the clock", lambda: page.text("#clock-mode") == "real")
    page.click('#clock-modes [data-mode="frozen"]')
    page.wait("the frozen clock", lambda: page.text("#clock-mode") == "frozen")
    before = httpx.get(f"{dashboard_url}/_emulator/clock", params={"tenant": tenant}).json()
    page.click('#view button[title="advance 60 s"]')
    clock = f"{dashboard_url}/_emulator/clock"
    page.wait("the advanced clock", lambda: httpx.get(clock, params={"tenant": tenant}).json()["now"] > before["now"])
    after = httpx.get(clock, params={"tenant": tenant}).json()
    assert after["mode"] == "frozen" and after["now"] == pytest.approx(before["now"] + 60)
    page.assert_not_reloaded()
