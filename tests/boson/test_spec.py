from __future__ import annotations

import httpx
import yaml
from openapi_spec_validator import validate

from mockserver.http.spec import Spec, spec_dir


def test_boson_spec_is_valid_openapi_303() -> None:
    document = yaml.safe_load((spec_dir() / "boson.yaml").read_text())
    assert document["openapi"] == "3.0.3"
    validate(document)


def test_spec_covers_the_documented_operations() -> None:
    spec = Spec.load("boson")
    assert {op.id: (op.method, op.path) for op in spec.operations.values()} == {
        "createVideo": ("POST", "/v1/videos"),
        "streamVideo": ("POST", "/v1/videos/stream"),
        "getVideo": ("GET", "/v1/videos/{video_id}"),
        "downloadVideoContent": ("GET", "/v1/videos/{video_id}/content"),
        "createSpeech": ("POST", "/v1/audio/speech"),
        "listVoices": ("GET", "/v1/audio/voices"),
    }
    for op_id in ("createVideo", "streamVideo", "createSpeech"):
        assert set(spec.operations[op_id].body_content_types()) == {"application/json", "multipart/form-data"}
    schemas = spec.document["components"]["schemas"]
    assert schemas["CreateVideoRequest"]["additionalProperties"] is False
    assert schemas["CreateSpeechRequest"]["additionalProperties"] is False


def test_emulator_serves_its_spec(boson_url: str) -> None:
    as_yaml = httpx.get(f"{boson_url}/openapi/boson.yaml")
    as_json = httpx.get(f"{boson_url}/openapi/boson.json")
    assert as_yaml.status_code == as_json.status_code == 200
    assert yaml.safe_load(as_yaml.text) == as_json.json()
    assert as_json.json()["paths"]["/v1/videos"]["post"]["operationId"] == "createVideo"
