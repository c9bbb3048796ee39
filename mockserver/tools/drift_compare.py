"""What `drift` compares between a recorded answer and the target's: status, the headers that
matter, JSON shape (presence, type, nullability), chosen values, and lifecycle sequences.

Noise rules work like LocalStack's snapshot transformers, by JSON path (`$.data.status`,
`$..id`, `$..*_at`, `$.items[*].name`, `headers.x-request-id`):

- `ignore`: differences at these paths (or below them) are dropped;
- `values`: values compared here (everywhere else only the shape is compared);
- `noise`: values here are compared as placeholders (ids, timestamps, request ids), so a broad
  `values` rule such as `$..*` does not report them; URL values always lose their host and their
  signed-link parameters before they are compared.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..http.cassettes import header, media_type, strip_signed

DEFAULT_VALUES = ("$.status", "$.object", "$.code", "$.error.type", "$.error.code", "$.data.status")
DEFAULT_NOISE = ("$..id", "$..*_id", "$..*_at", "$..created*", "$..expires*", "$..timestamp", "$..request_id")
DEFAULT_HEADERS = ("content-type", "retry-after", "x-video-id", "www-authenticate")
TERMINAL_WORDS = frozenset({"completed", "failed", "succeeded", "success", "error", "cancelled", "canceled", "done"})
ABSENT = "absent"


@dataclass(frozen=True)
class Difference:
    """One disagreement: where (`path`), what kind, and both sides' values."""

    kind: str
    path: str
    recorded: Any
    target: Any

    def key(self) -> str:
        return json.dumps([self.kind, self.path, self.recorded, self.target], sort_keys=True, default=str)


# --------------------------------------------------------------------------- JSON paths


def segments(path: str) -> list[str]:
    """`$.data.videos[3].id` -> `["$", "data", "videos", "[*]", "id"]` (`..` kept as a segment)."""
    out: list[str] = []
    i = 0
    while i < len(path):
        if path.startswith("..", i):
            out.append("..")
            i += 2
        elif path[i] == ".":
            i += 1
        elif path[i] == "[":
            end = path.index("]", i)
            out.append("[*]")
            i = end + 1
        else:
            end = i
            while end < len(path) and path[end] not in ".[":
                end += 1
            out.append(path[i:end])
            i = end
    return out


def _match(pattern: Sequence[str], path: Sequence[str]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "..":
        return any(_match(pattern[1:], path[k:]) for k in range(len(path) + 1))
    if not path:
        return False
    head = pattern[0] == path[0] or (not pattern[0].startswith("[") and fnmatchcase(path[0], pattern[0]))
    return head and _match(pattern[1:], path[1:])


def path_matches(pattern: str, path: str, *, below: bool = False) -> bool:
    """Whether `path` is matched by `pattern` (or, with `below`, lies under a matched path)."""
    want, have = segments(pattern), segments(path)
    if below:
        return any(_match(want, have[:k]) for k in range(1, len(have) + 1))
    return _match(want, have)


def value_at(value: Any, path: str) -> Any:
    """The value at a concrete path such as `$.data.video_url` or `$.items[0].id` (None if absent)."""
    for part in segments(path)[1:]:
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


# --------------------------------------------------------------------------- rules


@dataclass
class Rules:
    ignore: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=lambda: list(DEFAULT_VALUES))
    noise: list[str] = field(default_factory=lambda: list(DEFAULT_NOISE))
    headers: list[str] = field(default_factory=lambda: list(DEFAULT_HEADERS))

    @classmethod
    def load(cls, path: Path | None, *, ignore: Sequence[str] = (), values: Sequence[str] = ()) -> Rules:
        """The defaults, extended by a JSON file `{"ignore": [...], "values": [...], "noise": [...],
        "headers": [...]}` and by command-line paths."""
        rules = cls()
        if path is not None:
            raw = json.loads(Path(path).read_text())
            unknown = set(raw) - {"ignore", "values", "noise", "headers"}
            if unknown:
                raise ValueError(f"{path}: unknown rule key(s) {sorted(unknown)}; use ignore, values, noise, headers")
            for name in ("ignore", "values", "noise", "headers"):
                getattr(rules, name).extend(str(p) for p in raw.get(name, []))
        rules.ignore.extend(ignore)
        rules.values.extend(values)
        rules.headers = [h.lower() for h in rules.headers]
        return rules

    def ignored(self, path: str) -> bool:
        return any(path_matches(p, path, below=True) for p in self.ignore)

    def compares_value(self, path: str) -> bool:
        return any(path_matches(p, path) for p in self.values)

    def comparable(self, path: str, value: Any) -> Any:
        """`value` as it is compared: noise as a placeholder, URLs without host and signature."""
        if value is None:
            return None
        if any(path_matches(p, path) for p in self.noise):
            return "<noise>"
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            parts = urlsplit(strip_signed(value))
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return value


# --------------------------------------------------------------------------- shape and values


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _compatible(recorded: Any, target: Any) -> bool:
    rk, tk = kind_of(recorded), kind_of(target)
    if rk == tk or (rk == "number" and tk == "integer"):
        return True
    return rk == "integer" and tk == "number" and float(target).is_integer()


def compare_json(recorded: Any, target: Any, rules: Rules, path: str = "$", *, skip_values: Sequence[str] = ()
                 ) -> list[Difference]:  # fmt: skip
    """Shape everywhere (presence, type, nullability), values where `rules.values` says."""
    if rules.ignored(path):
        return []
    if not _compatible(recorded, target):
        return [Difference("type", path, kind_of(recorded), kind_of(target))]
    if isinstance(recorded, dict):
        return _compare_objects(recorded, target, rules, path, skip_values)
    if isinstance(recorded, list):
        if recorded and target:
            return compare_json(recorded[0], target[0], rules, f"{path}[*]", skip_values=skip_values)
        return []
    if path in skip_values or not rules.compares_value(path):
        return []
    if rules.comparable(path, recorded) != rules.comparable(path, target):
        return [Difference("value", path, recorded, target)]
    return []


def _compare_objects(recorded: dict[str, Any], target: dict[str, Any], rules: Rules, path: str,
                     skip_values: Sequence[str]) -> list[Difference]:  # fmt: skip
    missing = [k for k in recorded if k not in target and not rules.ignored(f"{path}.{k}")]
    added = [k for k in target if k not in recorded and not rules.ignored(f"{path}.{k}")]
    out: list[Difference] = []
    if len(missing) == 1 and len(added) == 1 and _compatible(recorded[missing[0]], target[added[0]]):
        (old,), (new,) = missing, added
        out.append(Difference("field renamed", f"{path}.{old}", f"{path}.{old} ({kind_of(recorded[old])})",
                              f"{path}.{new} ({kind_of(target[new])})"))  # fmt: skip
    else:
        out += [Difference("field missing", f"{path}.{k}", kind_of(recorded[k]), ABSENT) for k in missing]
        out += [Difference("field added", f"{path}.{k}", ABSENT, kind_of(target[k])) for k in added]
    for key in recorded.keys() & target.keys():
        out += compare_json(recorded[key], target[key], rules, f"{path}.{key}", skip_values=skip_values)
    return out


# --------------------------------------------------------------------------- headers and status


def compare_headers(recorded: Sequence[tuple[str, str]], target: Sequence[tuple[str, str]], rules: Rules
                    ) -> list[Difference]:  # fmt: skip
    """content-type by media type; the others by presence (retry-after: also seconds vs date;
    www-authenticate: also the scheme)."""
    out: list[Difference] = []
    for name in rules.headers:
        path = f"headers.{name}"
        if rules.ignored(path):
            continue
        mine, theirs = header(recorded, name), header(target, name)
        if mine is None and theirs is None:
            continue
        if mine is None or theirs is None:
            out.append(Difference("header", path, mine or ABSENT, theirs or ABSENT))
        elif _header_differs(name, mine, theirs):
            out.append(Difference("header", path, mine, theirs))
    return out


def _header_differs(name: str, mine: str, theirs: str) -> bool:
    """Both sides sent header `name`: do they differ in a way a client notices?"""
    if name == "content-type":
        return media_type(mine) != media_type(theirs)
    if name == "retry-after":  # delay-seconds vs HTTP-date
        return mine.strip().isdigit() != theirs.strip().isdigit()
    if name == "www-authenticate":  # the challenge's scheme
        return mine.partition(" ")[0].strip().lower() != theirs.partition(" ")[0].strip().lower()
    return False


# --------------------------------------------------------------------------- lifecycles


def status_path(body: Any) -> str | None:
    """Where a job's status word is: `$.status` (Boson) or `$.data.status` (HeyGen), if anywhere."""
    if isinstance(body, dict):
        if isinstance(body.get("status"), str):
            return "$.status"
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("status"), str):
            return "$.data.status"
    return None


def status_word(body: Any) -> str | None:
    path = status_path(body)
    return None if path is None else str(value_at(body, path))


def _collapse(words: Sequence[str | None]) -> list[str]:
    out: list[str] = []
    for word in words:
        if word is not None and (not out or out[-1] != word):
            out.append(word)
    return out


def _progress(bodies: Sequence[Any], path: str) -> list[float]:
    where = path.rsplit(".", 1)[0] + ".progress"
    values = [value_at(body, where) for body in bodies]
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _monotone(values: Sequence[float]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(values))


def compare_lifecycle(recorded: Sequence[Any], target: Sequence[Any], rules: Rules) -> list[Difference]:
    """A polled job: both must end on the same word, pass their common words in the same order, and
    not each show a word the other never does (a renamed state). A word seen on one side only is
    timing (a poll fell between states) and passes. Progress must rise if it rose in the recording."""
    path = next((p for p in map(status_path, recorded) if p), None)
    if path is None or rules.ignored(path):
        return []
    mine, theirs = _collapse([status_word(b) for b in recorded]), _collapse([status_word(b) for b in target])
    if not mine or not theirs:
        return []
    out: list[Difference] = []
    positions = [mine.index(word) for word in theirs if word in mine]
    renamed = set(theirs) - set(mine) and set(mine) - set(theirs)
    if theirs[-1] != mine[-1] or renamed or positions != sorted(positions):
        out.append(Difference("lifecycle", path, " > ".join(mine), " > ".join(theirs)))
    progress_path = path.rsplit(".", 1)[0] + ".progress"
    mine_p, theirs_p = _progress(recorded, path), _progress(target, path)
    if not rules.ignored(progress_path) and _monotone(mine_p) and not _monotone(theirs_p):
        out.append(Difference("lifecycle", progress_path, "rising", " > ".join(f"{v:g}" for v in theirs_p)))
    return out
