"""The response models of the official `heygen-mcp` 0.0.3 client (heygen_mcp/api_client.py, MIT,
Copyright HeyGen), copied verbatim in substance: the package requires Python >= 3.12 and pulls in
`mcp[cli]`, so it cannot be installed here. These are the strict checks real users' MCP servers run
on our responses (pydantic v2: missing keys, wrong types and bad URLs all fail).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, HttpUrl


class BaseHeyGenResponse(BaseModel):
    error: str | None = None


class VoiceInfo(BaseModel):
    voice_id: str
    language: str
    gender: str
    name: str
    preview_audio: HttpUrl
    support_pause: bool
    emotion_support: bool
    support_interactive_avatar: bool


class VoicesData(BaseModel):
    voices: list[VoiceInfo]


class VoicesResponse(BaseHeyGenResponse):
    data: VoicesData | None = None


class QuotaDetails(BaseModel):
    api: int
    streaming_avatar: int
    streaming_avatar_instance_quota: int
    seat: int


class RemainingQuota(BaseModel):
    remaining_quota: int
    details: QuotaDetails


class RemainingQuotaResponse(BaseHeyGenResponse):
    data: RemainingQuota | None = None


class Character(BaseModel):
    type: str = "avatar"
    avatar_id: str
    avatar_style: str = "normal"
    scale: float = 1.0


class Voice(BaseModel):
    type: str = "text"
    input_text: str
    voice_id: str


class VideoInput(BaseModel):
    character: Character
    voice: Voice


class Dimension(BaseModel):
    width: int = 1280
    height: int = 720


class VideoGenerateRequest(BaseModel):
    title: str = ""
    video_inputs: list[VideoInput]
    test: bool = False
    callback_id: str | None = None
    dimension: Dimension = Field(default_factory=lambda: Dimension())
    aspect_ratio: str | None = None
    caption: bool = False


class VideoGenerateResponse(BaseHeyGenResponse):
    data: dict[str, Any] | None = None


class VideoStatusError(BaseModel):
    code: int | None = None
    detail: str | None = None
    message: str | None = None


class VideoStatusData(BaseModel):
    callback_id: str | None = None
    caption_url: str | None = None
    created_at: int | None = None
    duration: float | None = None
    error: VideoStatusError | None = None
    gif_url: str | None = None
    id: str
    status: str
    thumbnail_url: str | None = None
    video_url: str | None = None
    video_url_caption: str | None = None


class VideoStatusResponse(BaseModel):
    code: int
    data: VideoStatusData
    message: str
