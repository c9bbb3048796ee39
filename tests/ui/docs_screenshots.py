"""Make the README's dashboard screenshots (docs/dashboard-jobs.png, docs/dashboard-journal.png).

    .venv/bin/python -m tests.ui.docs_screenshots

A real photograph (scikit-image's astronaut) rendered at two sizes, a HeyGen avatar video, a job
failed by a `job_error` fault, a `429` fault in the journal, and a realtime render playing live,
all in one tenant of an emulator on loopback, seen in Debian's headless Chromium. Not a test: it
needs `apt-get install -y chromium chromium-driver` and writes into docs/.
"""

from __future__ import annotations

import base64
import io
import shutil
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from skimage import data as skimage_data

from mockserver import Settings, create_app
from tests.media import speech_like, wav_bytes
from tests.servers import serve
from tests.ui.test_dashboard import CHROME_FLAGS, Page

DOCS = Path(__file__).resolve().parents[2] / "docs"
TENANT = "checkout-flow"


def astronaut_uri() -> str:
    buffer = io.BytesIO()
    Image.fromarray(skimage_data.astronaut()).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def speech_uri(seconds: float, seed: int) -> str:
    return "data:audio/wav;base64," + base64.b64encode(wav_bytes(speech_like(seconds, seed=seed))).decode()


def wait_completed(client: httpx.Client, video_id: str) -> None:
    while client.get(f"/v1/videos/{video_id}").json()["status"] not in ("completed", "failed"):
        time.sleep(0.1)


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    face = astronaut_uri()
    with serve(create_app(Settings())) as url, tempfile.TemporaryDirectory() as profile:
        boson = httpx.Client(base_url=url, timeout=60,
                             headers={"Authorization": "Bearer bai-docs", "X-Emulator-Tenant": TENANT})
        heygen = httpx.Client(base_url=url, timeout=60, headers={"x-api-key": "hg-docs", "X-Emulator-Tenant": TENANT})
        control = httpx.Client(base_url=f"{url}/_emulator", timeout=60, params={"tenant": TENANT})
        done = [boson.post("/v1/videos", json={"ref_image": face, "input": speech_uri(seconds, seed), "size": size})
                .json()["id"] for seconds, seed, size in ((3.0, 1, "640x640"), (2.0, 2, "480x640"))]
        heygen.post("/v2/video/generate", json={
            "title": "Welcome aboard", "dimension": {"width": 640, "height": 360},
            "video_inputs": [{"character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
                              "voice": {"type": "text", "voice_id": "1bd001e7e50f421d891986aad5158bc8",
                                        "input_text": "Welcome aboard."},
                              "background": {"type": "color", "value": "#dbe7f8"}}]})
        control.post("/faults", json={"operation_id": "createVideo", "job_error": "Face not detected in ref_image."})
        done.append(boson.post("/v1/videos", json={"ref_image": face, "input": speech_uri(1.5, 3)}).json()["id"])
        control.post("/faults", json={"operation_id": "createVideo", "error": 429})
        boson.post("/v1/videos", json={"ref_image": face, "input": speech_uri(1.0, 4)})
        for video_id in done:
            wait_completed(boson, video_id)
        control.post("/clock", json={"pace": "realtime"})
        live = boson.post("/v1/videos", json={"ref_image": face, "input": speech_uri(12.0, 5)}).json()["id"]

        options = webdriver.ChromeOptions()
        options.binary_location = str(shutil.which("chromium"))
        for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path=str(shutil.which("chromedriver"))), options=options)
        try:
            page = Page(driver, url)
            page.open(f"/jobs?tenant={TENANT}")
            card = f'[data-job-id="{live}"]'
            page.wait("the live job", lambda: page.js("return !!document.querySelector(arguments[0])", card))
            page.click(card)
            page.wait("live playback", lambda: page.js(
                "const v = document.querySelector('#player-video'); return v && v.currentTime > 3"), timeout=30)
            page.wait("thumbnails", lambda: page.js(
                "return [...document.querySelectorAll('#job-grid img')].every((i) => i.complete && i.naturalWidth)"))
            driver.save_screenshot(str(DOCS / "dashboard-jobs.png"))
            page.click('#nav [data-page="journal"]')
            row = "#journal-table tr[data-status='429']"
            page.wait("the faulted row", lambda: page.js("return !!document.querySelector(arguments[0])", row))
            page.click(row)
            page.wait("the detail view", lambda: "all_replicas_busy" in page.text("#journal-detail"))
            driver.save_screenshot(str(DOCS / "dashboard-journal.png"))
        finally:
            driver.quit()
    print(f"wrote {DOCS / 'dashboard-jobs.png'} and {DOCS / 'dashboard-journal.png'}")


if __name__ == "__main__":
    main()
