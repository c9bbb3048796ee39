"""A checked generate request, before its URL inputs are fetched: what each scene shows and says.

Both `POST /v2/video/generate` and the legacy `POST /v1/video.generate` produce a `VideoPlan`;
`fetch_inputs` then downloads every URL input to a file (the video is `waiting` meanwhile). A plan
holds paths and small values only: it is what the render worker receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reference_engine.scenes import TextOverlay

from ...core.settings import Settings
from ...core.storage import MediaStore
from ...http.fetch import FetchError, fetch
from .portraits import Look

MAX_INPUT_BYTES = 50 * 1024 * 1024


@dataclass
class MediaRef:
    """A media input named in the request: an URL to fetch, or a file already at hand (an asset)."""

    field: str
    kind: str  # image | audio | video
    url: str | None = None
    path: str | None = None
    fetched: bool = False
    """The file was downloaded for this video (and goes once it is rendered)."""


@dataclass
class CharacterPlan:
    kind: str  # avatar | talking_photo
    look: Look | None = None  # built-in avatar or talking photo, drawn by the render worker
    photo: MediaRef | None = None  # an uploaded image used as a talking photo
    style: str = "normal"
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)
    circle_color: tuple[int, int, int] = (255, 255, 255)


@dataclass
class VoicePlan:
    kind: str  # text | audio | silence
    text: str = ""
    engine_voice: str = "default"
    speed: float = 1.0
    pitch: float = 0.0
    audio: MediaRef | None = None
    seconds: float = 1.0


@dataclass
class BackgroundPlan:
    kind: str = "color"  # color | image | video
    color: tuple[int, int, int] = (255, 255, 255)
    media: MediaRef | None = None
    fit: str = "cover"
    play_style: str = "fit_to_scene"


@dataclass
class ScenePlan:
    voice: VoicePlan
    character: CharacterPlan | None = None
    background: BackgroundPlan = field(default_factory=BackgroundPlan)
    text: TextOverlay | None = None


@dataclass
class VideoPlan:
    scenes: list[ScenePlan]
    width: int = 1280
    height: int = 720
    test: bool = False
    watermark: bool = False
    caption_file: bool = False
    caption_video: bool = False
    title: str | None = None
    callback_id: str | None = None
    callback_url: str | None = None

    def refs(self) -> list[MediaRef]:
        out: list[MediaRef] = []
        for scene in self.scenes:
            for ref in (scene.voice.audio, scene.background.media, scene.character.photo if scene.character else None):
                if ref is not None:
                    out.append(ref)
        return out


async def fetch_inputs(plan: VideoPlan, settings: Settings, store: MediaStore, tenant: str) -> list[Path]:
    """Download every URL input to a file; raises FetchError naming the first one that fails.

    Returns the files it made (removed by the caller once the render is over)."""
    made: list[Path] = []
    for ref in plan.refs():
        if ref.path is None and ref.url is not None:
            try:
                data = await fetch(ref.url, settings.fetch, limit=MAX_INPUT_BYTES, deadline=settings.fetch_deadline_s)
            except FetchError as exc:
                raise FetchError(ref.url, f"{ref.field}: {exc.reason}") from None
            target = store.scratch(tenant, ".bin")
            target.write_bytes(data)
            made.append(target)
            ref.path, ref.fetched = str(target), True
    return made
