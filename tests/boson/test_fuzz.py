"""No input, however malformed, produces a 5xx: hypothesis mutates valid bodies and invents others."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["ref_image", "input", "input_tts", "size", "model", "voice", "stream", "response_format", "ref_audio"]


def mutated(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    def apply(drop: list[str], extra: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in valid.items() if k not in drop}
        body.update(extra)
        return body

    keys = st.sampled_from(FIELDS) | st.text(max_size=10)
    return st.builds(apply, st.lists(st.sampled_from(sorted(valid))), st.dictionaries(keys, json_values, max_size=3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_create_and_speech_never_5xx(client: httpx.Client, face_data_uri: str, data: st.DataObject) -> None:
    video = {"ref_image": face_data_uri, "input_tts": {"input": "Hi."}, "size": "640x480"}
    speech = {"input": "Hello.", "response_format": "wav"}
    path, body = data.draw(
        st.sampled_from(
            [
                ("/v1/videos", mutated(video)),
                ("/v1/videos/stream", mutated(video)),
                ("/v1/audio/speech", mutated(speech)),
                ("/v1/videos", json_values),
                ("/v1/audio/speech", json_values),
            ]
        ).flatmap(lambda pair: st.tuples(st.just(pair[0]), pair[1]))
    )
    with client.stream("POST", path, json=body) as response:
        assert response.status_code < 500, (path, body, response.read())
        if response.status_code >= 400:
            error = response.read()
            assert b'"error"' in error and b'"type"' in error, error
