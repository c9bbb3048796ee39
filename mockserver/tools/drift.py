"""`avatar-emulator drift --cassettes DIR [--against URL]`: is the emulator still the API it copies?

Replays the recorded requests, in order, against a target (by default a fresh emulator started
on a loopback port) and compares each answer with the recorded real one (see `drift_compare`,
`drift_media`). Ids the target makes are mapped from its answers (`id`/`*_id` fields, the
`X-Video-Id` header) and substituted into later paths, queries and bodies; status polls are
repeated until the target's job is terminal; media links are fetched from the target's own
answers. Exit status: 0 no drift, 1 drift, 2 the run could not be made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..http.cassettes import HOP_BY_HOP, REDACTED, CassetteDir, Exchange, header, parse_json, walk_json
from ..http.replay import exchange_key
from .drift_compare import (
    TERMINAL_WORDS,
    Difference,
    Rules,
    compare_headers,
    compare_json,
    compare_lifecycle,
    status_path,
    status_word,
    value_at,
)
from .drift_media import compare_media

NOT_SENT = frozenset({"host", "content-length", "accept-encoding", *HOP_BY_HOP})
ID_HEADERS = ("x-video-id",)


@dataclass
class Answer:
    """The target's answer to one replayed request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        try:
            return parse_json(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class Finding:
    difference: Difference
    seen_in: list[str] = field(default_factory=list)
    count: int = 0


@dataclass
class Report:
    cassettes: str
    target: str
    exchanges: int = 0
    compared: int = 0
    findings: dict[str, Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return bool(self.findings)

    def add(self, differences: Sequence[Difference], where: str) -> None:
        for difference in differences:
            finding = self.findings.setdefault(difference.key(), Finding(difference))
            finding.count += 1
            if where not in finding.seen_in:
                finding.seen_in.append(where)

    def to_json(self) -> dict[str, Any]:
        return {
            "cassettes": self.cassettes,
            "target": self.target,
            "exchanges": self.exchanges,
            "compared": self.compared,
            "drift": self.drift,
            "differences": [
                {**asdict(f.difference), "seen_in": f.seen_in, "count": f.count} for f in self.findings.values()
            ],
            "errors": self.errors,
        }


class DriftRun:
    """One replay of a cassette directory against one target."""

    def __init__(
        self,
        exchanges: list[Exchange],
        client: httpx.AsyncClient,
        rules: Rules,
        report: Report,
        *,
        api_key: str | None = None,
        poll_timeout: float = 300.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.exchanges = exchanges
        self.client = client
        self.rules = rules
        self.report = report
        self.api_key = api_key
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.ids: dict[str, str] = {}
        """Recorded id -> the target's id for the same thing."""
        self.answers: dict[int, Answer] = {}
        self.by_seq = {e.seq: e for e in exchanges}

    # requests ----------------------------------------------------------------

    def substitute(self, text: str) -> str:
        for recorded in sorted(self.ids, key=len, reverse=True):
            text = text.replace(recorded, self.ids[recorded])
        return text

    def label(self, exchange: Exchange) -> str:
        if exchange.link is not None:
            return f"GET <{exchange.link.path} of {self.label(self.by_seq[exchange.link.source])}>"
        path = urlsplit(exchange.request.url).path
        for recorded in sorted(self.ids, key=len, reverse=True):
            path = path.replace(recorded, "{id}")
        return f"{exchange.request.method} {path}"

    async def send(self, exchange: Exchange, url: str | None = None) -> Answer:
        request = exchange.request
        headers = []
        for name, value in request.headers:
            if name.lower() in NOT_SENT:
                continue
            if self.api_key and REDACTED in value:
                value = value.replace(REDACTED, self.api_key)
            headers.append((name, value))
        body = request.body
        if body:
            try:
                body = self.substitute(body.decode("utf-8")).encode()
            except UnicodeDecodeError:
                for recorded, mine in self.ids.items():
                    body = body.replace(recorded.encode(), mine.encode())
        target = url or self.substitute(request.url)
        response = await self.client.request(request.method, target, headers=headers, content=body)
        return Answer(response.status_code, list(response.headers.multi_items()), response.content)

    def learn_ids(self, exchange: Exchange, answer: Answer) -> None:
        """Map the ids in a recorded answer to those in the target's answer at the same places."""
        if not 200 <= exchange.response.status < 300 or not 200 <= answer.status < 300:
            return
        for name in ID_HEADERS:
            mine, theirs = header(exchange.response.headers, name), header(answer.headers, name)
            if mine and theirs and mine != theirs:
                self.ids[mine] = theirs
        target = answer.json()
        for path, value in walk_json(exchange.response.json()):
            key = path.rsplit(".", 1)[-1]
            if "[" in path or not isinstance(value, str) or not (key == "id" or key.endswith("_id")):
                continue
            theirs = value_at(target, path)
            if isinstance(theirs, str) and theirs and theirs != value and "request" not in key:
                self.ids[value] = theirs

    # comparing ---------------------------------------------------------------

    def compare(self, exchange: Exchange, answer: Answer, *, skip_values: Sequence[str] = ()) -> None:
        recorded = exchange.response
        out: list[Difference] = []
        if recorded.status != answer.status and not self.rules.ignored("status"):
            out.append(Difference("status", "status", recorded.status, answer.status))
        out += compare_headers(recorded.headers, answer.headers, self.rules)
        if recorded.status == answer.status:
            mine, theirs = recorded.json(), answer.json()
            if mine is not None and self.ids:  # recorded ids read as the target's (in links too)
                mine = json.loads(self.substitute(json.dumps(mine)))
            if mine is not None and theirs is not None:
                out += compare_json(mine, theirs, self.rules, skip_values=skip_values)
            elif mine is not None or theirs is not None:
                if not self.rules.ignored("body"):
                    out.append(Difference("body", "body", "JSON" if mine is not None else "not JSON",
                                          "JSON" if theirs is not None else "not JSON"))  # fmt: skip
            elif recorded.body and answer.body:
                out += compare_media(recorded.body, answer.body, self.rules)
        self.report.compared += 1
        self.report.add(out, self.label(exchange))

    # running -----------------------------------------------------------------

    async def run(self) -> None:
        links: dict[int, list[Exchange]] = {}
        main: list[Exchange] = []
        for exchange in self.exchanges:
            if exchange.link is not None:
                links.setdefault(exchange.link.source, []).append(exchange)
            else:
                main.append(exchange)
        i = 0
        while i < len(main):
            run = [main[i]]
            while i + len(run) < len(main) and exchange_key(main[i + len(run)]) == exchange_key(main[i]):
                run.append(main[i + len(run)])
            i += len(run)
            try:
                await self.play_run(run)
            except httpx.HTTPError as exc:
                self.report.errors.append(f"{self.label(run[0])}: the target did not answer: {exc!r}")
                continue
            for exchange in run:
                for link in links.get(exchange.seq, []):
                    await self.follow(link)

    async def play_run(self, run: list[Exchange]) -> None:
        first = run[0]
        if first.request.url.startswith("/_emulator"):  # the recording's own emulator setup (faults...): re-made
            for exchange in run:
                await self.send(exchange)
            return
        if first.request.method != "GET" or status_path(first.response.json()) is None:
            for exchange in run:
                answer = await self.send(exchange)
                self.answers[exchange.seq] = answer
                self.learn_ids(exchange, answer)
                self.compare(exchange, answer)
            return
        await self.poll(run)

    async def poll(self, run: list[Exchange]) -> None:
        """A status poll: ask the target until its job reaches the recording's last word or ends."""
        last_word = status_word(run[-1].response.json())
        answers: list[Answer] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll_timeout
        while True:
            answer = await self.send(run[0])
            answers.append(answer)
            word = status_word(answer.json())
            if word is None or word == last_word or word in TERMINAL_WORDS:
                break
            if loop.time() > deadline:
                self.report.errors.append(f"{self.label(run[0])}: still {word!r} after {self.poll_timeout:g} s")
                break
            await asyncio.sleep(self.poll_interval)
        path = status_path(run[0].response.json()) or "$.status"
        for answer in answers:
            word = status_word(answer.json())
            same_word = [e for e in run if status_word(e.response.json()) == word]
            self.learn_ids(run[0], answer)
            self.compare(same_word[-1] if same_word else run[-1], answer, skip_values=[path])
        differences = compare_lifecycle([e.response.json() for e in run], [a.json() for a in answers], self.rules)
        self.report.add(differences, self.label(run[0]))
        for exchange in run:
            self.answers[exchange.seq] = answers[-1]

    async def follow(self, exchange: Exchange) -> None:
        """A media link the recorder downloaded: download the target's link at the same place."""
        assert exchange.link is not None
        source = self.answers.get(exchange.link.source)
        url = value_at(source.json(), exchange.link.path) if source is not None else None
        if not isinstance(url, str) or not url.startswith("http"):
            self.report.add([Difference("link", exchange.link.path, "a link", url if url is not None else "absent")],
                            self.label(self.by_seq[exchange.link.source]))  # fmt: skip
            return
        try:
            answer = await self.send(exchange, url=url)
        except httpx.HTTPError as exc:
            self.report.errors.append(f"{self.label(exchange)}: could not download {url}: {exc!r}")
            return
        self.compare(exchange, answer)


# --------------------------------------------------------------------------- the target


@contextlib.contextmanager
def fresh_emulator(seed: int = 0) -> Iterator[str]:
    """A new emulator process on a loopback port (`--pace fast`); yields its base URL."""
    from .bench import HOST, _free_port, wait_until_serving

    port = _free_port()
    cmd = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", str(port), "--pace", "fast",
           "--seed", str(seed), "--log-level", "warning"]  # fmt: skip
    proc = wait_until_serving(subprocess.Popen(cmd, stdout=subprocess.DEVNULL), port)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def drift(cassettes: Path, target: str, rules: Rules, *, api_key: str | None = None,
                poll_timeout: float = 300.0, poll_interval: float = 0.5) -> Report:  # fmt: skip
    """Replay `cassettes` against `target`; the report of every difference found."""
    exchanges = CassetteDir(cassettes).load()
    report = Report(str(cassettes), target, exchanges=len(exchanges))
    timeout = httpx.Timeout(max(120.0, poll_timeout), connect=10.0)
    async with httpx.AsyncClient(base_url=target, timeout=timeout) as client:
        run = DriftRun(exchanges, client, rules, report, api_key=api_key, poll_timeout=poll_timeout,
                       poll_interval=poll_interval)  # fmt: skip
        await run.run()
    return report


# --------------------------------------------------------------------------- output


def _cell(value: Any, width: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def table(report: Report) -> str:
    """The report as a terminal table."""
    lines = [f"drift: {report.cassettes} ({report.exchanges} exchanges) against {report.target}: "
             f"{len(report.findings)} difference(s), {report.compared} answers compared"]  # fmt: skip
    if report.findings:
        rows = [("KIND", "PATH", "RECORDED", "TARGET", "SEEN IN")]
        for f in report.findings.values():
            d = f.difference
            seen = ", ".join(f.seen_in) + (f" (x{f.count})" if f.count > 1 else "")
            rows.append((d.kind, _cell(d.path, 40), _cell(d.recorded, 34), _cell(d.target, 34), seen))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            lines.append("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip())
    lines += [f"error: {e}" for e in report.errors]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="avatar-emulator drift", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--cassettes", type=Path, required=True, help="a directory written by `avatar-emulator record`")
    p.add_argument("--against", default=None, help="target base URL (default: a fresh emulator on loopback)")
    p.add_argument("--api-key", default=None, help="key sent where the recording has <redacted> (default: as is)")
    p.add_argument("--rules", type=Path, default=None, help='JSON {"ignore", "values", "noise", "headers"} paths')
    p.add_argument("--ignore", action="append", default=[], metavar="PATH", help="drop differences at this path")
    p.add_argument("--compare-value", action="append", default=[], metavar="PATH", help="also compare values here")
    p.add_argument("--json", type=Path, default=None, help="write the report here as JSON")
    p.add_argument("--poll-timeout", type=float, default=300.0, help="seconds a polled job may take (default 300)")
    p.add_argument("--poll-interval", type=float, default=0.5, help="seconds between polls (default 0.5)")
    p.add_argument("--seed", type=int, default=1, help="seed of the fresh emulator (default 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        CassetteDir(args.cassettes).manifest()
        rules = Rules.load(args.rules, ignore=args.ignore, values=args.compare_value)
    except (OSError, ValueError) as exc:
        print(f"avatar-emulator drift: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        target = args.against or stack.enter_context(fresh_emulator(args.seed))
        report = asyncio.run(drift(args.cassettes, target, rules, api_key=args.api_key,
                                   poll_timeout=args.poll_timeout, poll_interval=args.poll_interval))  # fmt: skip
    print(table(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    if report.errors and not report.findings:
        return 2
    return 1 if report.drift else 0


if __name__ == "__main__":
    raise SystemExit(main())
