"""48 tests inject conflicting faults, clocks and state into ONE emulator shared by every xdist
worker (`pytest -n 4`): each must see only its own tenant."""

from __future__ import annotations

import time

import pytest

from mockserver.testkit.handle import EmulatorHandle
from mockserver.testkit.plugin import EmulatorServer

CASES = range(48)


@pytest.fixture(scope="session")
def emulator_server(emulator_shared_server: EmulatorServer) -> EmulatorServer:
    return emulator_shared_server


@pytest.mark.parametrize("case", CASES)
def test_tenant_sees_only_its_own_faults_clock_state_and_journal(boson_emulator: EmulatorHandle, case: int) -> None:
    status = (400, 401, 429, 500, 503)[case % 5]
    boson_emulator.faults.add("listVoices", id=f"rule-{case}", times=None, after=case % 3,
                              error={"status": status, "type": f"type_{case}", "message": f"case {case}"})
    frozen = boson_emulator.clock.freeze()["now"]
    boson_emulator.clock.advance(case * 1000)
    outcome = "completed" if case % 2 else "failed"
    boson_emulator.state.seed_job("boson", outcome, id="video_same_id_everywhere", error=f"error {case}")

    client = boson_emulator.client()
    seen = []
    for _ in range(6):
        seen.append(client.get("/audio/voices"))
        time.sleep(0.002)  # let the other workers' calls interleave
    expected = [200] * (case % 3) + [status] * (6 - case % 3)
    assert [r.status_code for r in seen] == expected
    for response in seen[case % 3:]:
        assert response.headers["x-emulator-fault"] == f"rule-{case}"
        assert response.json()["error"] == {"message": f"case {case}", "type": f"type_{case}"}

    video = client.get("/videos/video_same_id_everywhere").json()
    assert video["status"] == outcome
    assert video["error"] == (None if case % 2 else f"error {case}")
    assert boson_emulator.clock.now() == pytest.approx(frozen + case * 1000)
    assert [rule["id"] for rule in boson_emulator.faults.list()] == [f"rule-{case}"]
    entries = boson_emulator.journal.entries()
    assert {entry["tenant"] for entry in entries} == {boson_emulator.tenant}
    assert [entry["operation_id"] for entry in entries] == ["listVoices"] * 6 + ["getVideo"]
    boson_emulator.assert_called("listVoices", times=6 - case % 3, where={"fault": f"rule-{case}"})
