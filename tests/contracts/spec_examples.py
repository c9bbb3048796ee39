"""A server that only returns spec examples: schema-shaped, but no lifecycle and no media."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

VIDEO = {
    "id": "video_8a1f2c3d4e5f6a7b8c9d0e1f",
    "object": "video",
    "model": "higgs-avatar",
    "status": "queued",
    "progress": 0,
    "size": "640x640",
    "created_at": 0,
    "error": None,
}
ERROR = {"error": {"message": "Missing or invalid API key.", "type": "invalid_api_key"}}


async def video(request: Request) -> Response:
    return JSONResponse(VIDEO)


async def content(request: Request) -> Response:
    return JSONResponse({"error": {"message": "Not found.", "type": "not_found"}}, status_code=404)


async def stream(request: Request) -> Response:
    return Response(b"", media_type="video/mp4", headers={"X-Video-Id": VIDEO["id"]})


async def voices(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"voice": "default", "description": None, "created_at": None}]})


async def speech(request: Request) -> Response:
    return Response(b"", media_type="audio/wav")


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/videos", video, methods=["POST"]),
            Route("/v1/videos/stream", stream, methods=["POST"]),
            Route("/v1/videos/{video_id}", video, methods=["GET"]),
            Route("/v1/videos/{video_id}/content", content, methods=["GET"]),
            Route("/v1/audio/voices", voices, methods=["GET"]),
            Route("/v1/audio/speech", speech, methods=["POST"]),
        ]
    )
