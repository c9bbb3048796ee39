"""The pytest plugin, driven through pytester (the plugin is loaded by its entry point)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INPUTS = '''
import base64
import pytest
from tests.media import encode_image, make_portrait, speech_like, wav_bytes

FACE = "data:image/png;base64," + base64.b64encode(encode_image(make_portrait(320, 320).rgb, "PNG")).decode()
SPEECH = "data:audio/wav;base64," + base64.b64encode(wav_bytes(speech_like(1.0))).decode()
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    pytester.syspathinsert(root)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


def test_marker_configures_the_tenant_and_assert_called_lists_near_misses(project: pytest.Pytester) -> None:
    project.makepyfile(INPUTS + '''
@pytest.mark.emulator(clock="frozen", pace="realtime", polls=2,
                      faults=[{"operation_id": "listVoices", "error": 503, "times": 1}])
def test_marked(boson_emulator):
    clock = boson_emulator.clock.get()
    assert (clock["mode"], clock["pace"], clock["polls"]) == ("frozen", "realtime", 2)
    client = boson_emulator.client()
    assert [client.get("/audio/voices").status_code for _ in range(2)] == [503, 200]
    boson_emulator.assert_called("listVoices", times=2, where={"status": 200})
''')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*listVoices expected 2 time(s) where {'status': 200}, matched 1 time(s)*",
        "*Near misses (same operation):*",
        "*#1 GET /v1/audio/voices -> 503 completed fault=fault-1: status=503 (wanted 200)*",
    ])


def test_each_test_gets_a_fresh_tenant(project: pytest.Pytester) -> None:
    project.makepyfile('''
import pytest

@pytest.mark.parametrize("n", range(3))
def test_fresh(emulator, n):
    assert emulator.faults.list() == [] and emulator.journal.entries() == []
    emulator.faults.add("listVoices", error=500, times=None)
    assert emulator.state.jobs() == []
    emulator.state.seed_job("boson", id="video_x")
''')
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_an_emulator_failure_is_raised_at_teardown(project: pytest.Pytester) -> None:
    project.makepyfile('''
import mockserver.providers.boson.speech as speech

class Broken(dict):
    def get(self, key, default=None):
        raise RuntimeError("emulator bug on purpose")

def test_bug(boson_emulator, monkeypatch):
    monkeypatch.setattr(speech, "VOICE_DESCRIPTIONS", Broken())
    response = boson_emulator.client().get("/audio/voices")
    assert response.status_code == 500   # the client saw a 500; the test body passes
''')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the emulator failed while serving tenant*",
                                 "*RuntimeError: emulator bug on purpose*"])


def test_fixtures_cost_nothing_unless_used(project: pytest.Pytester) -> None:
    project.makepyfile('''
import sys

def test_plain():
    assert "mockserver.http.app" not in sys.modules
    assert "mockserver.testkit.server" not in sys.modules
''')
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_in_process_transport_and_webhook_inbox(project: pytest.Pytester) -> None:
    project.makepyfile('''
import httpx

def test_transport(boson_emulator):
    with httpx.Client(base_url=boson_emulator.base_url, headers={"Authorization": "Bearer k"},
                      transport=boson_emulator.transport) as client:
        assert client.get("/audio/voices").status_code == 200
    boson_emulator.assert_called("listVoices", times=1)

def test_inbox(emulator):
    inbox = emulator.webhooks
    inbox.fail_next(1, status=503)
    first = httpx.post(inbox.url_for("events"), json={"n": 1}, headers={"Signature": "abc"})
    second = httpx.post(inbox.url_for("events"), json={"n": 2})
    assert (first.status_code, second.status_code) == (503, 200)
    got = inbox.wait(2)
    assert [(d.status, d.json()["n"]) for d in got] == [(503, 1), (200, 2)]
    assert got[0].headers["signature"] == "abc" and got[0].path.endswith("/events")
''')
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_marker_misuse_is_an_error(project: pytest.Pytester) -> None:
    project.makepyfile('''
import pytest

@pytest.mark.emulator(speed=3)
def test_bad(emulator):
    pass
''')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*pace=, clock=, polls=, faults= only*"])
