from __future__ import annotations

from typing import Any

import httpx

from mockserver.testkit.handle import EmulatorHandle


def video_body(face_data_uri: str, speech_data_uri: str, **extra: Any) -> dict[str, Any]:
    return {"ref_image": face_data_uri, "input": speech_data_uri, **extra}


def poll(client: httpx.Client, video_id: str, tries: int = 600) -> dict[str, Any]:
    """Poll a Boson video until it is terminal (the clock must let it get there)."""
    import time

    for _ in range(tries):
        video: dict[str, Any] = client.get(f"/videos/{video_id}").json()
        if video["status"] in ("completed", "failed"):
            return video
        time.sleep(0.02)
    raise AssertionError(f"{video_id} not terminal: {video}")


def fault_ids(handle: EmulatorHandle) -> list[str | None]:
    return [entry["fault"] for entry in handle.journal.entries()]
