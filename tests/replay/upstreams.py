"""Upstreams that are the emulator deviating in one respect (built on the contract suite's mutants)."""

from __future__ import annotations

from typing import Any

from tests.contracts.asgi import App, Buffered, Message, Receive, Scope, Send, json_rewrite, path_is

VIDEO = r"/v1/videos(/video_[0-9a-f]+)?"


def renamed_progress(app: App) -> App:
    """Boson's Video object calls `progress` `percent`."""

    def rename(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        if isinstance(body, dict) and body.get("object") == "video":
            body = {("percent" if key == "progress" else key): value for key, value in body.items()}
        return status, body

    return Buffered(app, path_is(VIDEO), json_rewrite(rename))


def succeeded_not_completed(app: App) -> App:
    """HeyGen's status says `succeeded` where it said `completed`."""

    def reword(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
        data = body.get("data") or {}
        if data.get("status") == "completed":
            data["status"] = "succeeded"
        return status, body

    return Buffered(app, path_is(r"/v1/video_status\.get", "GET"), json_rewrite(reword))


def swap_header(name: bytes, value: bytes | None, pattern: str, status: int | None = None) -> Any:
    """Replace (or with None, drop) one response header, streams left streaming."""

    def wrap(app: App) -> App:
        async def deviating(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not path_is(pattern)(scope):
                await app(scope, receive, send)
                return

            async def swap(message: Message) -> None:
                if message["type"] == "http.response.start" and status in (None, message["status"]):
                    kept = [(k, v) for k, v in message["headers"] if k.lower() != name]
                    message = {**message, "headers": kept + ([(name, value)] if value is not None else [])}
                await send(message)

            await app(scope, receive, swap)

        return deviating

    return wrap


no_retry_after = swap_header(b"retry-after", None, VIDEO, 429)
"""429s come without Retry-After."""
octet_stream = swap_header(b"content-type", b"application/octet-stream", r"/v1/videos/stream", 200)
"""/v1/videos/stream answers application/octet-stream instead of video/mp4."""
