"""Crash containment: media are decoded and rendered in worker processes, never in the server.

Each case gets its clear answer, the server stays up, and the next normal job completes.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import signal
import time
import wave
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockserver import Settings, create_app
from tests.media import encode_image, inspect_mp4, speech_like, wav_bytes
from tests.servers import serve

KEY = {"Authorization": "Bearer bai-isolation"}


def wav_with_channels(channels: int, seconds: float = 0.25, rate: int = 24_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        noise = np.random.default_rng(channels).integers(-3000, 3000, size=int(seconds * rate) * channels)
        out.writeframes(noise.astype("<i2").tobytes())
    return buffer.getvalue()


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(create_app(Settings(fetch_deadline_s=1.5))) as running:
        yield running


@pytest.fixture
def client(url: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    headers = {**KEY, "X-Emulator-Tenant": request.node.name}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
        yield c


def body(face_data_uri: str, audio: bytes | None = None) -> dict[str, str]:
    return {"ref_image": face_data_uri, "input": data_uri(audio or wav_bytes(speech_like(1.0)), "audio/wav")}


def wait_done(client: httpx.Client, video_id: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        video: dict[str, object] = client.get(f"/v1/videos/{video_id}").json()
        if video["status"] in ("completed", "failed"):
            return video
        time.sleep(0.05)
    raise AssertionError(f"{video_id} is still not done after {timeout} s")


def a_normal_job_completes(client: httpx.Client, face_data_uri: str) -> None:
    created = client.post("/v1/videos", json=body(face_data_uri))
    assert created.status_code == 200, created.text
    assert wait_done(client, created.json()["id"])["status"] == "completed"
    content = client.get(f"/v1/videos/{created.json()['id']}/content")
    assert inspect_mp4(content.content).n_frames == 25


def pools(client: httpx.Client) -> dict[str, dict[str, object]]:
    return {pool["name"]: pool for pool in client.get("/_emulator/health").json()["workers"]}


def test_a_48_channel_wav_is_refused_from_its_header(client: httpx.Client, face_data_uri: str) -> None:
    answer = client.post("/v1/videos", json=body(face_data_uri, wav_with_channels(48)))
    assert answer.status_code == 400
    assert answer.json()["error"] == {"message": "'input': the audio has 48 channels; at most 8 are accepted",
                                      "type": "invalid_audio_format"}
    a_normal_job_completes(client, face_data_uri)


def test_a_decoder_that_segfaults_costs_only_its_worker(client: httpx.Client, face_data_uri: str) -> None:
    # PyAV's AudioFrame.to_ndarray segfaults on 8-channel audio: the probe worker dies, not the server.
    replaced = pools(client)["probe"]["replaced"]
    answer = client.post("/v1/videos", json=body(face_data_uri, wav_with_channels(8)))
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "message": "'input': the audio could not be decoded: the decoder crashed on it", "type": "invalid_audio_format"}
    assert pools(client)["probe"]["replaced"] == replaced + 1
    a_normal_job_completes(client, face_data_uri)


def test_a_worker_killed_mid_probe_answers_400(client: httpx.Client, face_data_uri: str) -> None:
    client.post("/_emulator/faults", json={"operation_id": "createVideo", "worker_crash": "probe"})
    answer = client.post("/v1/videos", json=body(face_data_uri))
    assert answer.status_code == 400
    assert answer.headers["X-Emulator-Fault"] == "fault-1"
    assert answer.json()["error"]["message"] == "'ref_image': the image could not be decoded: the decoder crashed on it"
    a_normal_job_completes(client, face_data_uri)


def test_a_worker_killed_mid_render_fails_only_its_job(client: httpx.Client, face_data_uri: str) -> None:
    client.post("/_emulator/faults", json={"operation_id": "createVideo", "worker_crash": "render"})
    doomed = client.post("/v1/videos", json=body(face_data_uri, wav_bytes(speech_like(3.0)))).json()
    survivor = client.post("/v1/videos", json=body(face_data_uri)).json()
    failed = wait_done(client, doomed["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == ("the render failed: the render worker process died: it was killed by SIGKILL; "
                               "create the video again")
    assert wait_done(client, survivor["id"])["status"] == "completed"
    a_normal_job_completes(client, face_data_uri)


def test_kill_9_of_a_rendering_worker_leaves_no_stuck_job(client: httpx.Client, face_data_uri: str) -> None:
    """A worker killed from outside (the OOM killer, an operator's kill -9)."""
    client.post("/_emulator/clock", json={"pace": "realtime"})  # the stream is paced; the render is not
    video = client.post("/v1/videos", json=body(face_data_uri, wav_bytes(speech_like(20.0)))).json()
    busy: list[int] = []
    deadline = time.monotonic() + 20
    while not busy and time.monotonic() < deadline:
        health = pools(client)["render"]
        if health["busy"]:
            busy = list(health["pids"])  # type: ignore[call-overload]
        time.sleep(0.01)
    assert busy, "the render never started"
    for pid in busy:
        os.kill(pid, signal.SIGKILL)
    failed = wait_done(client, video["id"])
    assert failed["status"] == "failed" and "killed by SIGKILL" in str(failed["error"])
    client.post("/_emulator/clock", json={"pace": "fast"})
    a_normal_job_completes(client, face_data_uri)


def test_a_drip_feeding_url_server_is_cut_off_at_the_deadline(client: httpx.Client, face_data_uri: str) -> None:
    async def drip(request: Request) -> Response:
        async def trickle() -> object:
            for _ in range(600):
                yield b"\x00"
                await asyncio.sleep(0.05)

        return StreamingResponse(trickle(), media_type="audio/wav")  # type: ignore[arg-type]

    with serve(Starlette(routes=[Route("/speech.wav", drip)])) as slow:
        started = time.monotonic()
        answer = client.post("/v1/videos", json={"ref_image": face_data_uri, "input": f"{slow}/speech.wav"})
        took = time.monotonic() - started
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_url"
    assert "did not finish within 1.5 s" in answer.json()["error"]["message"]
    assert took < 5
    a_normal_job_completes(client, face_data_uri)


@pytest.mark.parametrize("path", ["/v1/audio/speech", "/v1/videos"])
def test_whitespace_text_is_refused(client: httpx.Client, face_data_uri: str, path: str) -> None:
    if path == "/v1/audio/speech":
        answer, field = client.post(path, json={"input": " \t\n "}), "input"
    else:
        answer = client.post(path, json={"ref_image": face_data_uri, "input_tts": {"input": "   "}})
        field = "input_tts.input"
    assert answer.status_code == 400
    assert answer.json()["error"] == {"message": f"'{field}' is empty or only whitespace: send some text to speak.",
                                      "type": "empty_input"}


def test_workers_run_below_the_server_and_outside_it(client: httpx.Client, face_data_uri: str) -> None:
    """Renders take what CPU the server and the probes leave; probes answer requests, so they run above
    the renders, but still below the server."""
    a_normal_job_completes(client, face_data_uri)
    health = pools(client)
    server = os.getpriority(os.PRIO_PROCESS, 0)
    for name, below_by in (("render", 14), ("probe", 5)):
        pids = health[name]["pids"]
        assert pids and os.getpid() not in pids  # type: ignore[operator]
        for pid in pids:  # type: ignore[attr-defined]
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, server + below_by)


def test_a_decompression_bomb_fails_its_own_request(face_data_uri: str) -> None:
    """A 0.1 MB PNG that decodes to 119 MB of pixels (just under the 40 Mpx limit), against workers
    allowed 200 MB more each: enough to render, not enough to decode the bomb."""
    bomb = encode_image(np.zeros((6300, 6300, 3), np.uint8), "PNG")
    assert len(bomb) < 200_000
    with serve(create_app(Settings(worker_memory_mb=200))) as url, \
            httpx.Client(base_url=url, headers=KEY, timeout=60) as client:
        answer = client.post("/v1/videos", json={"ref_image": data_uri(bomb, "image/png"),
                                                 "input": data_uri(wav_bytes(speech_like(1.0)), "audio/wav")})
        assert answer.status_code == 400
        message = answer.json()["error"]["message"]
        assert message in ("'ref_image': the image needs more memory to decode than allowed",
                           "'ref_image': the image could not be decoded: the decoder crashed on it")
        a_normal_job_completes(client, face_data_uri)


def test_a_render_over_its_cpu_budget_is_stopped() -> None:
    """Three 100 s scenes at 1920x1080 (7,500 full-HD frames) against a budget of 1 CPU second: no
    machine renders that in time, so the kernel's SIGXCPU stops the worker and the job fails."""
    scene = {"character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
             "voice": {"type": "silence", "duration": 100}}
    with serve(create_app(Settings(worker_cpu_seconds=1))) as url, \
            httpx.Client(base_url=url, headers={"x-api-key": "hg-isolation"}, timeout=60) as client:
        created = client.post("/v2/video/generate", json={"video_inputs": [scene] * 3,
                                                           "dimension": {"width": 1920, "height": 1080}})
        assert created.status_code == 200, created.text
        video_id = created.json()["data"]["video_id"]
        deadline = time.monotonic() + 120
        while (data := client.get("/v1/video_status.get", params={"video_id": video_id}).json()["data"]
               )["status"] not in ("completed", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert data["status"] == "failed"
        assert "used more than its 1 s of CPU time" in str(data["error"])
