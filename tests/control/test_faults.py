"""Every fault kind, seen through a real client (httpx over loopback, or the openai SDK)."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockserver.testkit.control import ControlError
from mockserver.testkit.handle import EmulatorHandle
from tests.control.conftest import poll, video_body
from tests.media import top_level_boxes


def test_429_in_boson_envelope_with_retry_after(boson_emulator: EmulatorHandle) -> None:
    rule = boson_emulator.faults.add("listVoices", error={"status": 429, "retry_after": 7}, times=2)
    client = boson_emulator.client()
    seen = [client.get("/audio/voices") for _ in range(3)]
    assert [r.status_code for r in seen] == [429, 429, 200]
    assert seen[0].json() == {"error": {"message": seen[0].json()["error"]["message"], "type": "all_replicas_busy"}}
    assert seen[0].headers["retry-after"] == "7"
    assert [r.headers.get("x-emulator-fault") for r in seen] == [rule["id"], rule["id"], None]
    assert [e["fault"] for e in boson_emulator.journal.entries()] == [rule["id"], rule["id"], None]


def test_openai_sdk_retries_through_429s(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add("listVoices", error=429, times=2)
    client = boson_emulator.openai_client(max_retries=2)
    voices = client.get("/audio/voices", cast_to=object)
    assert voices["object"] == "list"  # type: ignore[index]
    boson_emulator.assert_called("listVoices", times=2, where={"status": 429})
    boson_emulator.assert_called("listVoices", times=1, where={"status": 200})


@pytest.mark.parametrize(
    ("error", "sdk_error", "status", "code"),
    [
        (401, openai.AuthenticationError, 401, "invalid_api_key"),
        ({"status": 400, "type": "invalid_image_format", "message": "bad face"}, openai.BadRequestError, 400,
         "invalid_image_format"),
        (500, openai.InternalServerError, 500, "internal_error"),
        (503, openai.InternalServerError, 503, "service_unavailable"),
    ],
)
def test_error_faults_reach_the_sdk(
    boson_emulator: EmulatorHandle, error: object, sdk_error: type[openai.APIStatusError], status: int, code: str
) -> None:
    boson_emulator.faults.add("createSpeech", error=error)  # type: ignore[arg-type]
    client = boson_emulator.openai_client(max_retries=0)
    with pytest.raises(sdk_error) as raised:
        client.audio.speech.create(model="higgs-tts-3", voice="chloe", input="Hi.", response_format="wav")
    assert raised.value.status_code == status
    assert raised.value.body["type"] == code  # type: ignore[index]
    assert client.audio.speech.create(model="higgs-tts-3", voice="chloe", input="Hi.", response_format="wav").content


def test_after_skips_calls_and_times_none_fires_forever(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add("listVoices", error=500, after=2, times=None)
    client = boson_emulator.client()
    assert [client.get("/audio/voices").status_code for _ in range(5)] == [200, 200, 500, 500, 500]


def test_oldest_due_rule_fires_first(boson_emulator: EmulatorHandle) -> None:
    first = boson_emulator.faults.add("listVoices", error=429, times=2)
    second = boson_emulator.faults.add("listVoices", error=503, times=1)
    client = boson_emulator.client()
    seen = [client.get("/audio/voices") for _ in range(4)]
    assert [r.headers.get("x-emulator-fault") for r in seen] == [first["id"], first["id"], second["id"], None]


def test_latency_delays_then_answers(boson_emulator: EmulatorHandle) -> None:
    rule = boson_emulator.faults.add("listVoices", latency=0.3)
    client = boson_emulator.client(timeout=0.1)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/audio/voices")
    boson_emulator.faults.add("listVoices", latency=0.2, id="slow-ok")
    ok = boson_emulator.client(timeout=5).get("/audio/voices")
    assert ok.status_code == 200 and ok.headers["x-emulator-fault"] == "slow-ok"
    assert rule["latency"] == 0.3


def test_connection_reset_before_the_response(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add("listVoices", network="reset")
    client = boson_emulator.client()
    with pytest.raises(httpx.ReadError, match="reset"):
        client.get("/audio/voices")
    assert client.get("/audio/voices").status_code == 200
    entries = boson_emulator.journal.entries("listVoices")
    assert (entries[0]["status"], entries[0]["outcome"]) == (None, "reset")


def test_openai_sdk_sees_a_reset_as_a_connection_error(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add("listVoices", network="reset", times=None)
    client = boson_emulator.openai_client(max_retries=1)
    with pytest.raises(openai.APIConnectionError):
        client.get("/audio/voices", cast_to=object)
    boson_emulator.assert_called("listVoices", times=2, where={"outcome": "reset"})


def test_truncated_body_is_shorter_than_content_length(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add("listVoices", network={"kind": "truncate", "bytes": 10})
    client = boson_emulator.client()
    with client.stream("GET", "/audio/voices") as r:
        assert r.headers["x-emulator-fault"]
        with pytest.raises(httpx.RemoteProtocolError, match="received 10 bytes"):
            r.read()


def test_in_process_transport_raises_what_a_socket_would(boson_emulator: EmulatorHandle) -> None:
    boson_emulator.faults.add_rules([
        {"operation_id": "listVoices", "network": "reset"},
        {"operation_id": "listVoices", "network": "truncate"},
    ])
    client = boson_emulator.client(in_process=True)
    with pytest.raises(httpx.ReadError):
        client.get("/audio/voices")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/audio/voices")
    assert client.get("/audio/voices").status_code == 200


def _stream(handle: EmulatorHandle, body: dict[str, object]) -> tuple[bytes, BaseException | None, str]:
    received = b""
    with handle.client().stream("POST", "/videos/stream", json=body) as response:
        assert response.status_code == 200
        try:
            for chunk in response.iter_bytes():
                received += chunk
        except httpx.HTTPError as exc:
            return received, exc, response.headers["x-video-id"]
        return received, None, response.headers["x-video-id"]


def test_stream_cut_after_n_fragments(boson_emulator: EmulatorHandle, face_data_uri: str, speech_data_uri: str) -> None:
    boson_emulator.faults.add("streamVideo", network={"kind": "cut", "fragments": 2})
    data, error, video_id = _stream(boson_emulator, video_body(face_data_uri, speech_data_uri))
    assert isinstance(error, httpx.RemoteProtocolError)
    assert [kind for kind, _, _ in top_level_boxes(data)] == ["ftyp", "moov", "moof", "mdat", "moof", "mdat"]
    # The job itself goes on: the whole video is there afterwards.
    assert poll(boson_emulator.client(), video_id)["status"] == "completed"
    whole, error, _ = _stream(boson_emulator, video_body(face_data_uri, speech_data_uri))
    assert error is None and len(whole) > len(data)


def test_stream_cut_after_n_bytes(boson_emulator: EmulatorHandle, face_data_uri: str, speech_data_uri: str) -> None:
    boson_emulator.faults.add("streamVideo", network={"kind": "cut", "bytes": 5000})
    data, error, _ = _stream(boson_emulator, video_body(face_data_uri, speech_data_uri))
    assert isinstance(error, httpx.RemoteProtocolError)
    assert len(data) == 5000
    assert boson_emulator.journal.entries("streamVideo")[0]["outcome"] == "cut"


def test_stream_stall_then_resume(boson_emulator: EmulatorHandle, face_data_uri: str, speech_data_uri: str) -> None:
    boson_emulator.faults.add("streamVideo", network={"kind": "stall", "fragments": 1, "seconds": 2}, times=2)
    client = boson_emulator.client(timeout=httpx.Timeout(10.0, read=1.0))
    received = b""
    body = video_body(face_data_uri, speech_data_uri)
    with client.stream("POST", "/videos/stream", json=body) as response, pytest.raises(httpx.ReadTimeout):
        for chunk in response.iter_bytes():
            received += chunk
    kinds = [kind for kind, _, _ in top_level_boxes(received)]
    assert kinds == ["ftyp", "moov", "moof", "mdat"]
    patient = boson_emulator.client(timeout=10.0)
    with patient.stream("POST", "/videos/stream", json=video_body(face_data_uri, speech_data_uri)) as response:
        assert response.headers["x-emulator-fault"]
        whole = response.read()
    assert [kind for kind, _, _ in top_level_boxes(whole)].count("moof") >= 5


def test_job_ends_failed_with_the_given_error(
    boson_emulator: EmulatorHandle, face_data_uri: str, speech_data_uri: str
) -> None:
    rule = boson_emulator.faults.add("createVideo", job_error="Face not detected in ref_image.")
    client = boson_emulator.client()
    created = client.post("/videos", json=video_body(face_data_uri, speech_data_uri))
    assert created.status_code == 200 and created.headers["x-emulator-fault"] == rule["id"]
    final = poll(client, created.json()["id"])
    assert (final["status"], final["error"]) == ("failed", "Face not detected in ref_image.")
    again = client.post("/videos", json=video_body(face_data_uri, speech_data_uri)).json()
    assert poll(client, again["id"])["status"] == "completed"


def test_unknown_operation_and_bad_rules_are_refused(boson_emulator: EmulatorHandle) -> None:
    with pytest.raises(ControlError, match="unknown operation_id 'createVideos'"):
        boson_emulator.faults.add("createVideos", error=500)
    with pytest.raises(ControlError, match="'network' must be one of reset, truncate, cut, stall"):
        boson_emulator.faults.add("listVoices", network="explode")
    with pytest.raises(ControlError, match="one of"):
        boson_emulator.faults.add_rules([{"operation_id": "listVoices", "error": 500, "job_error": "x"}])
    with pytest.raises(ControlError, match="'error' must be an HTTP status 400-599"):
        boson_emulator.faults.add("listVoices", error=302)
    # A batch with one bad rule adds none.
    with pytest.raises(ControlError):
        boson_emulator.faults.add_rules([{"operation_id": "listVoices", "error": 500}, {"operation_id": "nope"}])
    assert boson_emulator.faults.list() == []


def test_rules_can_be_listed_removed_and_cleared(boson_emulator: EmulatorHandle) -> None:
    a = boson_emulator.faults.add("listVoices", error=500, times=None)
    boson_emulator.faults.add("getVideo", error=500)
    assert [r["id"] for r in boson_emulator.faults.list()] == [a["id"], "fault-2"]
    boson_emulator.faults.remove(a["id"])
    assert boson_emulator.client().get("/audio/voices").status_code == 200
    boson_emulator.faults.clear()
    assert boson_emulator.faults.list() == []
    with pytest.raises(ControlError, match="No fault rule"):
        boson_emulator.faults.remove("fault-99")


def test_probability_is_seeded_and_repeatable(boson_emulator: EmulatorHandle) -> None:
    outcomes = []
    for _ in range(2):
        boson_emulator.reset()
        boson_emulator.faults.add("listVoices", error=500, times=None, probability=0.5, id="coin")
        client = boson_emulator.client()
        outcomes.append([client.get("/audio/voices").status_code for _ in range(12)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}
