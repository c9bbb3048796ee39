"""The control routes the dashboard adds, called directly: job media, live follow, webhooks, verify, report."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
from PIL import Image

from mockserver import Settings, create_app
from mockserver.cli import main as cli_main
from mockserver.controlplane.deliveries import group_attempts
from tests.boson.helpers import wait_terminal
from tests.control.test_control_api import _response_errors as schema_errors
from tests.heygen.helpers import SMALL, Receiver, generate, silence_scene, wait_done
from tests.media import inspect_mp4, top_level_boxes


def create(boson: httpx.Client, face: str, speech: str, **extra: Any) -> str:
    response = boson.post("/v1/videos", json={"ref_image": face, "input": speech, **extra})
    assert response.status_code == 200, response.text
    video_id: str = response.json()["id"]
    return video_id


def listed(control: httpx.Client, job_id: str) -> dict[str, Any]:
    response = control.get("/jobs")
    assert response.status_code == 200, response.text
    assert schema_errors("listJobs", response.json()) == []
    jobs = {job["id"]: job for job in response.json()["jobs"]}
    return jobs[job_id]


def test_a_completed_boson_job_has_its_mp4_a_thumbnail_and_a_replayable_live_stream(
    boson: httpx.Client, control: httpx.Client, face_data_uri: str, speech_data_uri: str
) -> None:
    video_id = create(boson, face_data_uri, speech_data_uri)
    wait_terminal(boson, video_id)
    reads = listed(control, video_id)["status_reads"]
    job = listed(control, video_id)
    assert job["provider"] == "boson" and job["provider_status"] == "completed" and job["status"] == "succeeded"
    assert job["media"] == {"video": True, "thumbnail": True, "live": True}
    assert job["status_reads"] == reads  # the dashboard's reads are not provider status reads

    video = control.get(f"/jobs/{video_id}/video")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content == boson.get(f"/v1/videos/{video_id}/content").content
    part = control.get(f"/jobs/{video_id}/video", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == video.content[:100]
    recorded = inspect_mp4(video.content)

    thumb = control.get(f"/jobs/{video_id}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = np.asarray(Image.open(io.BytesIO(thumb.content)).convert("RGB"), dtype=np.float64)
    assert image.shape[1] == 320 and image.shape[0] == 320  # 640x640 scaled to the thumbnail width
    first = np.asarray(Image.fromarray(recorded.frames[0]).resize((320, 320)), dtype=np.float64)
    assert np.abs(image - first).mean() < 8  # it is the video's first frame, not any picture

    live = control.get(f"/jobs/{video_id}/live")
    assert live.status_code == 200 and live.headers["content-type"] == "video/mp4"
    kinds = [kind for kind, _, _ in top_level_boxes(live.content)]
    assert kinds[:2] == ["ftyp", "moov"] and kinds.count("moof") == kinds.count("mdat") > 1
    assert inspect_mp4(live.content).n_frames == recorded.n_frames


def test_the_live_follow_delivers_fragments_while_the_job_is_still_rendering(
    boson: httpx.Client, control: httpx.Client, ui_url: str, tenant: str, face_data_uri: str, speech_data_uri: str
) -> None:
    assert control.post("/clock", json={"pace": "realtime"}).status_code == 200  # 2 s first frame, then 1x
    video_id = create(boson, face_data_uri, speech_data_uri)
    received = b""
    statuses = []
    with control.stream("GET", f"/jobs/{video_id}/live") as live:
        assert live.status_code == 200
        for chunk in live.iter_bytes():
            received += chunk
            if b"moof" in received:
                statuses.append(listed(control, video_id)["provider_status"])
                break
    assert statuses == ["in_progress"]  # a fragment arrived before the job completed
    assert listed(control, video_id)["media"]["video"] is False
    assert control.get(f"/jobs/{video_id}/video").status_code == 409


def test_a_running_boson_job_has_a_thumbnail_from_its_first_fragment(
    boson: httpx.Client, control: httpx.Client, face_data_uri: str, speech_data_uri: str
) -> None:
    control.post("/clock", json={"pace": "realtime"})
    video_id = create(boson, face_data_uri, speech_data_uri)
    deadline = time.monotonic() + 30
    while not listed(control, video_id)["media"]["thumbnail"]:
        assert time.monotonic() < deadline, "no first fragment within 30 s"
        time.sleep(0.05)
    assert listed(control, video_id)["provider_status"] == "in_progress"
    thumb = control.get(f"/jobs/{video_id}/thumbnail")
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.content)).format == "JPEG"


def test_media_routes_explain_what_is_missing(control: httpx.Client) -> None:
    seeded = control.post("/state", json={"jobs": [{"provider": "boson", "status": "in_progress"}]})
    job_id = seeded.json()["jobs"][0]["id"]
    for kind in ("video", "thumbnail", "live"):
        response = control.get(f"/jobs/{job_id}/{kind}")
        assert response.status_code == 409, (kind, response.text)
        assert response.json()["error"]["type"] == "no_media" and job_id in response.json()["error"]["message"]
        missing = control.get(f"/jobs/video_nope/{kind}")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
    assert "in_progress" in control.get(f"/jobs/{job_id}/video").json()["error"]["message"]
    assert listed(control, job_id)["media"] == {"video": False, "thumbnail": False, "live": False}


def test_a_heygen_job_lists_its_provider_status_title_and_stored_thumbnail(
    ui_url: str, tenant: str, control: httpx.Client
) -> None:
    headers = {"X-Api-Key": "hg-test", "X-Emulator-Tenant": tenant}
    with httpx.Client(base_url=ui_url, headers=headers, timeout=30) as hg:
        video_id = generate(hg, {"video_inputs": [silence_scene(1.0, "#204080")], "dimension": SMALL,
                                 "title": "Quarterly update"})
        wait_done(hg, video_id)
    job = listed(control, video_id)
    assert (job["provider"], job["provider_status"], job["title"]) == ("heygen", "completed", "Quarterly update")
    assert job["media"] == {"video": True, "thumbnail": True, "live": False}
    thumb = Image.open(io.BytesIO(control.get(f"/jobs/{video_id}/thumbnail").content)).convert("RGB")
    assert np.abs(np.asarray(thumb, dtype=np.float64).mean(axis=(0, 1)) - (0x20, 0x40, 0x80)).max() < 24
    assert inspect_mp4(control.get(f"/jobs/{video_id}/video").content).width == 320
    assert control.get(f"/jobs/{video_id}/live").status_code == 409


def test_webhook_deliveries_are_grouped_with_their_attempts(
    ui_url: str, tenant: str, control: httpx.Client, receiver: Receiver
) -> None:
    receiver.fail_first = 1
    headers = {"X-Api-Key": "hg-test", "X-Emulator-Tenant": tenant}
    with httpx.Client(base_url=ui_url, headers=headers, timeout=30) as hg:
        endpoint = hg.post("/v1/webhook/endpoint.add",
                           json={"url": f"{receiver.url}/hook", "events": ["avatar_video.success"]}).json()["data"]
        video_id = generate(hg, {"video_inputs": [silence_scene(1.0)], "dimension": SMALL})
        wait_done(hg, video_id)
    receiver.wait_posts(2)
    deadline = time.monotonic() + 10
    while True:
        body = control.get("/webhooks").json()
        if body["deliveries"] and body["deliveries"][0]["delivered"]:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    assert body["endpoints"] == [{"provider": "heygen", "endpoint_id": endpoint["endpoint_id"],
                                  "url": f"{receiver.url}/hook",
                                  "events": ["avatar_video.success"], "status": "enabled",
                                  "created_at": endpoint["created_at"]}]
    assert endpoint["secret"] not in json.dumps(body)
    assert schema_errors("listWebhookDeliveries", body) == []
    [delivery] = body["deliveries"]
    assert (delivery["target"], delivery["event_type"], delivery["video_id"]) == (
        endpoint["endpoint_id"], "avatar_video.success", video_id)
    attempts = [(a["attempt"], a["status_code"], a["ok"]) for a in delivery["attempts"]]
    assert attempts == [(1, 500, False), (2, 200, True)]
    assert delivery["signed"] is True


def test_group_attempts_keeps_deliveries_apart_and_in_order() -> None:
    def record(target: str, event: str, attempt: int, status: int | None) -> dict[str, Any]:
        return {"target": target, "url": "http://127.0.0.1/h", "event_type": event, "video_id": "v1",
                "attempt": attempt, "at": float(attempt), "status_code": status,
                "error": None if status else "ConnectError: refused", "signed": target != "callback_url",
                "ok": status is not None and 200 <= status < 300}

    grouped = group_attempts("heygen", [record("ep", "avatar_video.success", 1, None), record("callback_url",
                              "avatar_video.success", 1, 200), record("ep", "avatar_video.success", 2, 204),
                              record("ep", "avatar_video_gif.success", 1, 500)])
    assert [(g["target"], g["event_type"], g["delivered"], len(g["attempts"])) for g in grouped] == [
        ("ep", "avatar_video.success", True, 2),
        ("callback_url", "avatar_video.success", True, 1),
        ("ep", "avatar_video_gif.success", False, 1),
    ]
    assert grouped[0]["attempts"][0]["error"] == "ConnectError: refused" and grouped[1]["signed"] is False


def test_verify_explains_a_mismatch_with_near_misses_like_assert_called(
    boson: httpx.Client, control: httpx.Client
) -> None:
    assert boson.post("/v1/videos", json={"input": "x"}).status_code == 400
    boson.get("/v1/audio/voices")
    ok = control.post("/journal/verify", json={"operation_id": "createVideo", "where": {"status": 400}})
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["message"] is None
    assert len(ok.json()["matched"]) == 1
    miss = control.post("/journal/verify", json={"operation_id": "createVideo", "times": 1,
                                                 "where": {"status": 200}}).json()
    assert miss["ok"] is False and miss["matched"] == []
    assert miss["message"].startswith("createVideo expected 1 time(s) where {'status': 200}, matched 0 time(s)")
    assert "Near misses (same operation):" in miss["message"] and "status=400 (wanted 200)" in miss["message"]
    assert [n["differences"] for n in miss["near_misses"]] == [["status=400 (wanted 200)"]]
    assert schema_errors("verifyJournal", miss) == schema_errors("verifyJournal", ok.json()) == []
    bad = control.post("/journal/verify", json={"operation_id": "noSuchOp"})
    assert bad.status_code == 400 and "unknown operation_id" in bad.json()["error"]["message"]
    assert control.post("/journal/verify", json={"operation_id": "createVideo", "where": [1]}).status_code == 400


def test_the_journal_keeps_the_response_and_hides_keys(boson: httpx.Client, control: httpx.Client) -> None:
    boson.post("/v1/videos", json={"input": "x"}, headers={"Authorization": "Bearer bai-very-secret"})
    journal = control.get("/journal").json()
    assert schema_errors("getJournal", journal) == []
    [entry] = journal["entries"]
    [brief] = control.get("/journal", params={"brief": "1"}).json()["entries"]
    assert brief == {k: v for k, v in entry.items() if k not in ("request_headers", "request_json",
                                                                 "response_headers", "response_text")}
    assert control.get("/journal", params={"seq": entry["seq"]}).json()["entries"] == [entry]
    assert control.get("/journal", params={"seq": entry["seq"] + 1}).json()["entries"] == []
    assert entry["request_headers"]["authorization"] == "***"
    assert "bai-very-secret" not in json.dumps(entry)
    assert entry["response_headers"]["content-type"] == "application/json"
    assert json.loads(entry["response_text"])["error"]["message"] == entry["problems"][0]
    assert entry["response_bytes"] == len(entry["response_text"].encode())


def test_the_report_route_serves_the_file_given_at_startup(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"provider": "boson", "clauses": []}))

    async def get(settings: Settings) -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            return await http.get("/_emulator/report")

    assert asyncio.run(get(Settings(report_file=report))).json() == {"provider": "boson", "clauses": []}
    missing = asyncio.run(get(Settings()))
    assert missing.status_code == 404 and "avatar-emulator report" in missing.json()["error"]["message"]
    report.write_text("{not json")
    assert asyncio.run(get(Settings(report_file=report))).status_code == 422


def test_the_page_and_every_asset_it_names_are_served(ui_url: str) -> None:
    page = httpx.get(f"{ui_url}/_emulator/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    pending = [f"{ui_url}/_emulator/{asset}" for asset in re.findall(r'(?:src|href)="(ui/static/[^"]+)"', page.text)]
    assert any(url.endswith("/js/app.js") for url in pending)
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = httpx.get(url)
        assert response.status_code == 200, url
        outside = re.findall(r"https?://(?!www\.w3\.org/2000/svg)[\w-][^\s\"'`)]*", response.text)
        assert not outside, f"{url} names outside addresses {outside}"  # no CDN: it works offline
        if url.endswith(".js"):
            assert "javascript" in response.headers["content-type"]
            pending += [urljoin(url, module) for module in re.findall(r'from "(\./[^"]+)"', response.text)]
    assert len([url for url in seen if url.endswith(".js")]) >= 10  # the shell and every page module


def test_a_remote_browser_gets_in_with_the_token_once_then_by_cookie() -> None:
    app = create_app(Settings(control_token="s3cret"))

    async def go() -> tuple[httpx.Response, ...]:
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            refused = await http.get("/_emulator/ui")
            wrong = await http.get("/_emulator/ui?control_token=nope")
            login = await http.get("/_emulator/ui?control_token=s3cret")
            page = await http.get("/_emulator/ui")
            api = await http.get("/_emulator/jobs")
            http.cookies.clear()
            elsewhere = await http.get("/_emulator/jobs?control_token=s3cret")
            return refused, wrong, login, page, api, elsewhere

    refused, wrong, login, page, api, elsewhere = asyncio.run(go())
    assert refused.status_code == 403 and wrong.status_code == 403
    assert login.status_code == 303 and login.headers["location"] == "/_emulator/ui"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/_emulator" in cookie
    assert page.status_code == 200 and api.status_code == 200
    assert elsewhere.status_code == 403  # the query token is accepted on the page only


def test_the_report_command_serves_the_page_on_a_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"provider": "heygen", "clauses": [{"id": "X", "status": "FAIL"}]}))
    command = [sys.executable, "-m", "mockserver.cli", "report", str(report), "--no-browser"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            url = re.search(r"(http://\S+)/_emulator/ui#/report", line)
            assert url, line
            assert httpx.get(f"{url[1]}/_emulator/report", timeout=10).json()["clauses"][0]["status"] == "FAIL"
            assert httpx.get(f"{url[1]}/_emulator/ui", timeout=10).status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"), ("{oops", "is not JSON"), ('{"tests": []}', "has no 'clauses'"),
])
def test_the_report_command_refuses_what_is_not_a_report(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit, match=message):
        cli_main(["report", str(path), "--no-browser"])
