"""The /_emulator control plane: clock and progression, state, journal, tenants, access."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from mockserver.http.spec import Spec
from mockserver.testkit.control import ControlError, EmulatorControl
from mockserver.testkit.handle import EmulatorHandle
from mockserver.testkit.server import serve
from tests.control.conftest import video_body


def _response_errors(op_id: str, body: Any) -> list[str]:
    """Validate `body` against the operation's 200 response schema in openapi/control.yaml."""
    spec = Spec.load("control")
    op = spec.operations[op_id]
    path = op.path.replace("~", "~0").replace("/", "~1")
    resource = Resource.from_contents(dict(spec.document), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource("urn:control", resource)
    pointer = f"urn:control#/paths/{path}/{op.method.lower()}/responses/200/content/application~1json/schema"
    return [error.message for error in OAS30Validator({"$ref": pointer}, registry=registry).iter_errors(body)]


def test_frozen_clock_holds_a_slow_render_until_advanced(
    boson_emulator: EmulatorHandle, face_data_uri: str, speech_data_uri: str
) -> None:
    # pace 0.01: a 2 s clip takes 200+ s of emulated time; the real render takes well under a second.
    boson_emulator.clock.set(mode="frozen", pace=0.01)
    client = boson_emulator.client()
    video = client.post("/videos", json=video_body(face_data_uri, speech_data_uri)).json()
    for _ in range(500):
        job = boson_emulator.state.job(video["id"])
        if job["compute"]["done"]:
            break
        time.sleep(0.02)
    assert job["compute"]["done"] and job["status"] == "running"
    assert client.get(f"/videos/{video['id']}").json()["status"] == "in_progress"
    boson_emulator.clock.advance(250)  # of 200 s first-frame delay + 200 s of video
    halfway = client.get(f"/videos/{video['id']}").json()
    assert halfway["status"] == "in_progress" and 0 < halfway["progress"] < 100
    boson_emulator.clock.advance(200)
    assert client.get(f"/videos/{video['id']}").json()["status"] == "completed"
    assert client.get(f"/videos/{video['id']}/content").status_code == 200


def test_polls_mode_completes_on_the_nth_read_whatever_the_clock(
    boson_emulator: EmulatorHandle, face_data_uri: str, speech_data_uri: str
) -> None:
    boson_emulator.clock.set(mode="frozen", pace="realtime", polls=3)
    client = boson_emulator.client()
    video = client.post("/videos", json=video_body(face_data_uri, speech_data_uri)).json()
    statuses = [client.get(f"/videos/{video['id']}").json()["status"] for _ in range(3)]
    assert statuses[:2] in (["queued", "in_progress"], ["in_progress", "in_progress"], ["queued", "queued"])
    assert statuses[2] == "completed"
    assert boson_emulator.state.job(video["id"])["status_reads"] == 3


def test_scaled_clock_and_validation(boson_emulator: EmulatorHandle) -> None:
    before = boson_emulator.clock.get()
    assert before["mode"] == "real" and before["polls"] is None and before["pace"] == "fast"
    scaled = boson_emulator.clock.scale(60)
    assert scaled["mode"] == "scaled" and scaled["scale"] == 60
    frozen = boson_emulator.clock.freeze()
    assert boson_emulator.clock.advance(3600)["now"] == pytest.approx(frozen["now"] + 3600)
    for bad, message in [({"advance": -1}, "'advance' is out of range"), ({"mode": "warp"}, "'mode' must be one of"),
                         ({"pace": "slow"}, "'pace' must be 'fast', 'realtime' or a positive number"),
                         ({"polls": 0}, "'polls' is out of range"), ({"scale": 0}, "'scale' is out of range"),
                         ({"tick": 1}, "Unknown field 'tick'")]:
        with pytest.raises(ControlError, match=message):
            boson_emulator.clock.set(**bad)


def test_seeded_jobs_answer_through_the_provider_api(boson_emulator: EmulatorHandle) -> None:
    done = boson_emulator.state.seed_job("boson", "completed", id="video_seeded_ok")
    failed = boson_emulator.state.seed_job("boson", "failed", error="moderation: rejected")
    boson_emulator.state.seed(voices=[{"provider": "boson", "voice": "custom-1"}],
                              avatars=[{"provider": "heygen", "avatar_id": "Anna_public"}])
    client = boson_emulator.client()
    assert client.get("/videos/video_seeded_ok").json()["status"] == "completed"
    assert done["status"] == "succeeded" and done["progress"] == 100
    got = client.get(f"/videos/{failed['id']}").json()
    assert (got["status"], got["error"]) == ("failed", "moderation: rejected")
    assert client.get("/videos/video_seeded_ok/content").status_code == 404
    state = boson_emulator.state.get()
    assert {j["id"] for j in state["jobs"]} == {"video_seeded_ok", failed["id"]}
    assert state["voices"] == [{"provider": "boson", "voice": "custom-1"}]
    assert state["avatars"] == [{"provider": "heygen", "avatar_id": "Anna_public"}]
    with pytest.raises(ControlError, match="exists already"):
        boson_emulator.state.seed_job("boson", id="video_seeded_ok")
    with pytest.raises(ControlError, match="status"):
        boson_emulator.state.seed_job("boson", "exploded")
    with pytest.raises(ControlError, match="provider"):
        boson_emulator.state.seed_job("acme")


def test_journal_records_summaries_and_filters(boson_emulator: EmulatorHandle, face_data_uri: str) -> None:
    client = boson_emulator.client(headers={"X-Request-Id": "req-mine-1"})
    client.get("/audio/voices")
    bad = client.post("/videos", json={"ref_image": face_data_uri})
    assert bad.status_code == 400
    client.get("/videos/video_nope")
    entries = boson_emulator.journal.entries()
    assert [(e["operation_id"], e["status"]) for e in entries] == [
        ("listVoices", 200), ("createVideo", 400), ("getVideo", 404)]
    first = entries[0]
    assert first["request_id"] == "req-mine-1" and first["tenant"] == boson_emulator.tenant
    assert first["latency_ms"] >= 0 and first["duration_ms"] >= first["latency_ms"]
    assert first["outcome"] == "completed" and first["response_bytes"] > 0
    assert entries[1]["problems"] and "input" in entries[1]["problems"][0]
    assert entries[1]["request_json"]["ref_image"].startswith("data:image/png")
    assert [e["operation_id"] for e in boson_emulator.journal.entries(status=404)] == ["getVideo"]
    assert [e["status"] for e in boson_emulator.journal.entries("createVideo")] == [400]
    assert len(boson_emulator.journal.entries(limit=1)) == 1
    boson_emulator.journal.clear()
    assert boson_emulator.journal.entries() == []


def test_api_keys_are_never_recorded(boson_emulator: EmulatorHandle) -> None:
    secret = "bai-super-secret-123"
    with httpx.Client(base_url=boson_emulator.base_url, timeout=10,
                      headers={"Authorization": f"Bearer {secret}", "X-Api-Key": secret,
                               "X-Emulator-Tenant": boson_emulator.tenant}) as client:
        client.get("/audio/voices")
    dump = json.dumps(boson_emulator.journal.entries())
    assert secret not in dump
    assert boson_emulator.journal.entries()[0]["request_headers"]["authorization"] == "***"


def test_journal_is_a_bounded_ring_buffer() -> None:
    with serve(create_app(Settings(journal_size=5))) as server, EmulatorControl(server.url, "ring") as c:
        with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k", "X-Emulator-Tenant": "ring"}) as h:
            for _ in range(8):
                h.get("/v1/audio/voices")
        assert [e["seq"] for e in c.journal.entries()] == [4, 5, 6, 7, 8]


def test_tenants_reset_and_delete(emulator: EmulatorHandle) -> None:
    other = emulator.control.for_tenant(emulator.tenant + "-other")
    try:
        other.faults.add("listVoices", error=500)
        emulator.faults.add("listVoices", error=429)
        assert emulator.tenant + "-other" in emulator.control.request("GET", "/tenants")["tenants"]
        other.reset()
        assert other.faults.list() == []
        assert len(emulator.faults.list()) == 1
        other.faults.add("listVoices", error=500)
        emulator.control.drop_tenant(emulator.tenant + "-other")
        assert other.faults.list() == []
    finally:
        other.drop_tenant()
        other.close()


def test_responses_match_the_control_spec(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add("listVoices", error=429)
    boson_emulator.client().get("/audio/voices")
    boson_emulator.state.seed_job("boson")
    checks = {
        "health": boson_emulator.control.health(),
        "listRoutes": {"routes": boson_emulator.control.routes()},
        "listFaults": {"rules": boson_emulator.faults.list()},
        "getClock": boson_emulator.clock.get(),
        "getJournal": {"entries": boson_emulator.journal.entries()},
        "getState": boson_emulator.state.get(),
    }
    for op_id, body in checks.items():
        assert _response_errors(op_id, body) == [], op_id
    assert _response_errors("getClock", {"mode": "warp"})  # the check can fail


def test_routes_and_health(emulator: EmulatorHandle) -> None:
    routes = {r["operation_id"]: r for r in emulator.control.routes()}
    assert set(Spec.load("boson").operations) <= set(routes)
    assert routes["createVideo"]["status"] == "implemented" and routes["createVideo"]["path"] == "/v1/videos"
    health = emulator.control.health()
    assert health["status"] == "ok" and "boson" in health["providers"] and "faults" in health["capabilities"]


def test_control_answers_loopback_only_and_can_be_switched_off() -> None:
    app = create_app(Settings())

    async def from_remote() -> int:
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as remote:
            return (await remote.get("/_emulator/health")).status_code

    assert asyncio.run(from_remote()) == 403
    allowed = create_app(Settings(control_any_host=True))
    with serve(allowed) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/_emulator/health").status_code == 200
    with serve(create_app(Settings(control=False))) as server, httpx.Client(base_url=server.url) as client:
        off = client.get("/_emulator/health")
        assert off.status_code == 404 and off.json()["error"]["type"] == "not_found"
        assert client.get("/v1/audio/voices", headers={"Authorization": "Bearer k"}).status_code == 200


def test_bad_control_bodies_are_refused(emulator: EmulatorHandle) -> None:
    with pytest.raises(ControlError, match="JSON"):
        emulator.control.request("POST", "/faults", content=b"{nope", headers={"content-type": "application/json"})
    with pytest.raises(ControlError, match=r"Unknown field 'rules\[1\]\.when'"):
        emulator.faults.add_rules([{"operation_id": "getVideo", "error": 500},
                                   {"operation_id": "listVoices", "error": 500, "when": "later"}])
    with pytest.raises(ControlError, match="send one rule, a list of rules"):
        emulator.control.request("POST", "/faults", json=[])
    with pytest.raises(ControlError, match="HTTP status"):
        emulator.control.request("GET", "/journal", params={"status": "teapot"})


def test_seeded_boson_voices_are_listed_and_speak(boson_emulator: EmulatorHandle) -> None:
    client = boson_emulator.client()
    unknown = client.post("/audio/speech", json={"input": "Hi.", "voice": "voice_custom", "response_format": "pcm"})
    assert unknown.status_code == 400 and unknown.json()["error"]["type"] == "voice_not_found"
    boson_emulator.state.seed(voices=[{"provider": "boson", "voice": "voice_custom", "description": "Seeded."}])
    listed = client.get("/audio/voices").json()["data"]
    assert {"voice": "voice_custom", "description": "Seeded.", "created_at": None} in listed
    spoken = client.post("/audio/speech", json={"input": "Hi.", "voice": "voice_custom", "response_format": "pcm"})
    assert spoken.status_code == 200 and len(spoken.content) > 2_400
