"""Full tier: a Hypothesis state machine interleaves creates, reads and downloads and checks lifecycle invariants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.fixtures import ORDER, TERMINAL, video_body
from contracts.target import Target

MAX_CREATES = 4


@pytest.mark.tier("full")
@pytest.mark.clause(
    "BOSON-VIDEO-STATUS-MONOTONE",
    "BOSON-VIDEO-PROGRESS-MONOTONE",
    "BOSON-VIDEO-TERMINAL-STABLE",
    "BOSON-CONTENT-404-UNTIL-COMPLETED",
)
def test_lifecycle_state_machine(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: random interleavings of POST /v1/videos, GET /v1/videos/{id} and GET /content.
    Requirement: every read MUST respect the lifecycle against the last read of the same video.
    """
    target.require_budget(MAX_CREATES)
    created = [0]

    class Lifecycle(RuleBasedStateMachine):
        videos = Bundle("videos")

        def __init__(self) -> None:
            super().__init__()
            self.last: dict[str, dict[str, Any]] = {}

        @rule(target=videos, size=st.sampled_from(["640x640", "640x480", "480x640"]))
        def create(self, size: str) -> str:
            if created[0] >= MAX_CREATES:
                return next(iter(self.last), "video_000000000000000000000000")
            created[0] += 1
            r = client.create("/v1/videos", json=video_body(size))
            vid = str(r.json().get("id")) if r.status_code == 200 else "video_000000000000000000000000"
            if r.status_code == 200:
                self.last[vid] = r.json()
            return vid

        @rule(vid=videos)
        def read(self, vid: str) -> None:
            r = client.get(f"/v1/videos/{vid}")
            if r.status_code != 200 or vid not in self.last:
                return
            a, b = self.last[vid], r.json()
            sa, sb = a.get("status"), b.get("status")
            forward = sa in ORDER and sb in ORDER and ORDER[sb] >= ORDER[sa] and (sa not in TERMINAL or sa == sb)
            ev.check("BOSON-VIDEO-STATUS-MONOTONE", forward, f"{sa} -> {sb}")
            ev.check("BOSON-VIDEO-PROGRESS-MONOTONE", b.get("progress", -1) >= a.get("progress", 0), f"{a} -> {b}")
            if sa in TERMINAL:
                ev.check(
                    "BOSON-VIDEO-TERMINAL-STABLE", (sa, a.get("progress")) == (sb, b.get("progress")), f"{sa}->{sb}"
                )
            self.last[vid] = b

        @rule(vid=videos)
        def content(self, vid: str) -> None:
            if vid not in self.last:
                return
            r = client.get(f"/v1/videos/{vid}/content", headers={"Range": "bytes=0-15"})
            after = client.get(f"/v1/videos/{vid}").json().get("status")
            if r.status_code in (200, 206):
                ev.check("BOSON-CONTENT-404-UNTIL-COMPLETED", after == "completed", f"{r.status_code} while {after}")
            elif r.status_code != 404:
                ev.check("BOSON-CONTENT-404-UNTIL-COMPLETED", False, f"content answered {r.status_code}")

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=5,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    for clause in ev.unrecorded():
        ev.na(clause, "the state machine never made the comparison")
