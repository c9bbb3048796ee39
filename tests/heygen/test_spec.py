"""openapi/heygen.yaml is valid, served, and covers every route the HeyGen provider serves."""

from __future__ import annotations

import httpx
import yaml
from openapi_spec_validator import validate

from mockserver.http.spec import Spec, spec_dir

REQUIRED = {
    ("POST", "/v2/video/generate"), ("GET", "/v1/video_status.get"), ("POST", "/v1/video.generate"),
    ("GET", "/v1/video.list"), ("DELETE", "/v1/video.delete"), ("GET", "/v2/avatars"),
    ("GET", "/v2/avatar/{avatar_id}/details"), ("GET", "/v2/voices"), ("GET", "/v2/user/remaining_quota"),
    ("POST", "/v1/asset"), ("GET", "/v1/webhook/webhook.list"), ("POST", "/v1/webhook/endpoint.add"),
    ("GET", "/v1/webhook/endpoint.list"), ("DELETE", "/v1/webhook/endpoint.delete"),
}  # fmt: skip


def test_spec_is_valid_and_complete(heygen_url: str) -> None:
    document = yaml.safe_load((spec_dir() / "heygen.yaml").read_text())
    validate(document)
    spec = Spec.load("heygen")
    served = {(op.method, op.path) for op in spec.operations.values()}
    assert served >= REQUIRED
    assert spec.operations["generateVideoV1"].raw["deprecated"] is True
    assert document["components"]["securitySchemes"]["apiKey"] == {
        **document["components"]["securitySchemes"]["apiKey"],
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    for op in spec.operations.values():
        if op.path.startswith("/heygen/"):
            assert op.raw["security"] == [] and "Emulator" in op.raw["tags"]
    assert httpx.get(f"{heygen_url}/openapi/heygen.json").json()["info"]["title"].startswith("HeyGen")
