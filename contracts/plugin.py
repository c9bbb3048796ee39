"""pytest hooks of the conformance suite: options, clause markers, tiers, deviations, verdicts and reports.

Loaded by contracts/conftest.py, so `pytest --pyargs contracts --base-url URL ...` runs the suite.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from contracts.catalog import load_catalog, load_deviations
from contracts.client import Client
from contracts.evidence import Evidence, Record
from contracts.fixtures import driving_speech, jobs
from contracts.heygen_jobs import hg_catalog, hg_jobs
from contracts.progress import Progress
from contracts.receiver import ReceiverConfig, parse_listen
from contracts.report import RunReport, TestResult
from contracts.target import DEFAULT_KEY_ENV, TIERS, NotApplicable, Target
from contracts.webhooks import webhooks

TARGET = pytest.StashKey[Target]()
REPORT = pytest.StashKey[RunReport]()
EVIDENCE = pytest.StashKey[Evidence]()
RID_OFFSET = pytest.StashKey[int]()
CLIENT = pytest.StashKey[Client]()
RECEIVER = pytest.StashKey[ReceiverConfig]()
PROGRESS = pytest.StashKey[Progress]()
DURATION = pytest.StashKey[float]()
__all__ = [
    "client",
    "driving_speech",
    "ev",
    "hg_catalog",
    "hg_jobs",
    "jobs",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_teststatus",
    "pytest_runtest_logfinish",
    "pytest_runtest_logstart",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "receiver_config",
    "target",
    "webhooks",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "avatar-emulator conformance suite")
    group.addoption("--provider", choices=("boson", "heygen"), default="boson", help="API family to judge")
    group.addoption("--base-url", default=None, help="target base URL (no default: there is no default target)")
    group.addoption("--api-key-env", default=None, help="environment variable holding the API key")
    group.addoption("--tier", choices=TIERS, default="core", help="smoke: no videos; core: a few; full: more")
    group.addoption("--budget-videos", type=int, default=None, help="max videos to create (required off loopback)")
    group.addoption("--report", default=None, help="write the JSON conformance report here")
    group.addoption("--target-name", default=None, help="name used in deviations.yaml (default loopback or host)")
    group.addoption("--clause", action="append", default=[], help="only run tests naming this clause (repeatable)")
    group.addoption("--video-timeout", type=float, default=None, help="seconds to wait for a video to finish")
    group.addoption("--strict-conformance", action="store_true", default=False,
                    help="SHOULD clauses count: one not met is a FAIL, not a WARN (or pytest's --strict)")  # fmt: skip
    group.addoption("--callback-base-url", default=None,
                    help="public URL reaching the suite's webhook receiver (for a remote target)")  # fmt: skip
    group.addoption("--callback-listen", default="127.0.0.1:0",
                    help="HOST:PORT the webhook receiver listens on (default 127.0.0.1, any free port)")  # fmt: skip
    group.addoption("--heygen-concurrency", type=int, default=None,
                    help="HeyGen: videos the account renders at once (Free 1, Pro 3, Scale 6)")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the catalog clauses a conformance test checks")
    config.addinivalue_line("markers", "tier(name): the lowest tier (smoke, core, full) that runs this test")
    base_url = config.getoption("--base-url")
    if not base_url:
        raise pytest.UsageError("contracts: --base-url is required (there is no default target)")
    provider = config.getoption("--provider")
    target = Target(
        provider=provider,
        base_url=base_url,
        api_key_env=config.getoption("--api-key-env") or DEFAULT_KEY_ENV[provider],
        tier=config.getoption("--tier"),
        budget_videos=config.getoption("--budget-videos"),
        name=config.getoption("--target-name") or "",
    )
    try:
        host, port = parse_listen(config.getoption("--callback-listen"))
    except ValueError as exc:
        raise pytest.UsageError(f"contracts: --callback-listen: {exc}") from None
    config.stash[TARGET] = target
    config.stash[RECEIVER] = ReceiverConfig(host, port, config.getoption("--callback-base-url"))
    config.stash[REPORT] = RunReport(target, strict=strict_run(config))


def strict_run(config: pytest.Config) -> bool:
    """--strict-conformance, or pytest's own --strict on the command line (which also tightens pytest)."""
    return bool(config.getoption("--strict-conformance")) or "--strict" in config.invocation_params.args


def _clauses(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("clause")
    return tuple(marker.args) if marker else ()


def _tier(item: pytest.Item) -> str:
    marker = item.get_closest_marker("tier")
    return str(marker.args[0]) if marker else "smoke"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = config.stash[TARGET]
    report = config.stash[REPORT]
    catalog = load_catalog()
    wanted = set(config.getoption("--clause"))
    unknown = wanted - set(catalog)
    if unknown:
        raise pytest.UsageError(f"--clause names unknown clauses: {sorted(unknown)}")
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        clauses = _clauses(item)
        for clause in clauses:
            if clause not in catalog:
                raise pytest.UsageError(f"{item.nodeid} names unknown clause {clause}")
        reason = None
        if not clauses:
            reason = "names no clause"
        elif any(catalog[c].provider != target.provider for c in clauses):
            reason = f"provider {target.provider} not selected"
        elif not target.tier_at_least(_tier(item)):
            reason = f"runs in tier {_tier(item)} and up; this run is tier {target.tier}"
        elif wanted and not wanted.intersection(clauses):
            reason = "not selected by --clause"
        if reason is None:
            keep.append(item)
            continue
        dropped.append(item)
        for clause in clauses:
            report.not_run.setdefault(clause, reason)
    for clause in {c for item in keep for c in _clauses(item)}:
        report.not_run.pop(clause, None)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# ----- progress display -----------------------------------------------------------------------


class _TerminalOut:
    """A file-like view of pytest's terminal writer (test output itself is captured)."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter

    def write(self, text: str) -> int:
        self.reporter.write(text, flush=True)
        return len(text)

    def flush(self) -> None:
        self.reporter.flush()


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.option.collectonly:
        return
    provider = config.stash[TARGET].provider
    judged = {c for item in session.items for c in _clauses(item)}
    clauses = len(judged) or sum(1 for c in load_catalog().values() if c.provider == provider)
    global _progress
    _progress = config.stash[PROGRESS] = Progress(
        _TerminalOut(reporter), tty=bool(reporter.isatty), total=len(session.items), clauses=clauses
    )
    if hasattr(reporter, "_show_progress_info"):
        reporter._show_progress_info = False  # the clause lines replace pytest's dots and percentages
    reporter.write("\n")


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Generator[None, Any, Any]:
    """While the clause-by-clause display runs, pytest prints no letters of its own (the counts stay)."""
    result = yield
    if result and PROGRESS in config.stash and report.when in ("setup", "call", "teardown"):
        return result[0], "", ""
    return result


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _progress is not None:
        _progress.test_started(nodeid)


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Outside output capture: show the clauses the test judged."""
    if _progress is not None:
        _progress.test_finished(nodeid, _finished.pop(nodeid, {}))


_progress: Progress | None = None
"""The running session's display (logstart/logfinish get no config); set at collection, cleared at the end."""
_finished: dict[str, dict[str, tuple[str, str]]] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    target = item.config.stash[TARGET]
    deviations = load_deviations()
    catalog = load_catalog()
    clauses = _clauses(item)
    item.stash[EVIDENCE] = Evidence(
        nodeid=item.nodeid,
        declared=clauses,
        deviations={c: deviations[c][target.name] for c in clauses if target.name in deviations.get(c, {})},
        should=frozenset(c for c in clauses if catalog[c].level == "SHOULD"),
        strict=item.config.stash[REPORT].strict,
    )
    client = item.config.stash.get(CLIENT, None)
    item.stash[RID_OFFSET] = len(client.request_ids) if client else 0
    item.user_properties.append(("clauses", " ".join(clauses)))


def _message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = f"{excinfo.typename}: {excinfo.value}".strip()
    return text.splitlines()[0][:300] if text else excinfo.typename


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    item.stash[DURATION] = item.stash.get(DURATION, 0.0) + report.duration
    evidence = item.stash.get(EVIDENCE, None)
    if evidence is None or call.when == "teardown":
        return report
    excinfo = call.excinfo
    if call.when == "setup" and excinfo is None:
        return report
    if excinfo is not None and excinfo.errisinstance(NotApplicable):
        evidence.fill("NA", str(excinfo.value))
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"NA: {excinfo.value}")
    elif excinfo is not None and excinfo.errisinstance(pytest.skip.Exception):
        evidence.fill("NA", f"skipped: {excinfo.value}")
    elif excinfo is not None:
        evidence.fill("FAIL", f"test stopped: {_message(excinfo)}")
        if report.outcome == "failed" and not evidence.failures():
            _not_failed(report, evidence)
    else:
        failures = evidence.failures()
        xpassed = evidence.xpassed()
        if failures:
            report.outcome = "failed"
            report.longrepr = "\n".join(f"{r.clause}: {r.message}" for r in failures)
        elif xpassed:
            report.outcome = "failed"
            report.longrepr = "XPASS(strict): deviation fixed, remove from deviations.yaml: " + ", ".join(xpassed)
            for clause in xpassed:
                evidence.records.append(Record(clause, "FAIL", "XPASS(strict): deviation fixed; remove it"))
        else:
            _not_failed(report, evidence)
    return report


def _not_failed(report: pytest.TestReport, evidence: Evidence) -> None:
    """No FAIL: a known deviation reports as xfail; SHOULD clauses not met (WARN) leave the test passed."""
    if evidence.xfailed():
        report.outcome = "skipped"
        report.wasxfail = "; ".join(r.message for r in evidence.xfailed())[:500]
    elif evidence.warnings():
        report.outcome = "passed"
        report.longrepr = None
        report.sections.append(("conformance WARN", "\n".join(f"{r.clause}: {r.message}" for r in evidence.warnings())))


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    evidence = item.stash.get(EVIDENCE, None)
    if evidence is None:
        return
    run = item.config.stash[REPORT]
    run.add_evidence(evidence)
    client = item.config.stash.get(CLIENT, None)
    rids = client.request_ids[item.stash.get(RID_OFFSET, 0) :] if client else []
    failures = [f"{r.clause} {r.verdict}: {r.message}" for r in evidence.records if r.verdict != "PASS"]
    if evidence.failures():
        outcome = "FAIL"
    elif evidence.xfailed():
        outcome = "XFAIL"
    elif evidence.records and all(r.verdict == "NA" for r in evidence.records):
        outcome = "NA"
    else:
        outcome = "WARN" if evidence.warnings() else "PASS"
    run.tests.append(
        TestResult(
            nodeid=item.nodeid,
            outcome=outcome,
            duration_s=item.stash.get(DURATION, 0.0),
            clauses=list(evidence.declared),
            request_ids=list(rids),
            message="; ".join(failures)[:1000],
        )
    )
    _finished[item.nodeid] = dict(evidence.by_clause())


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fill the report's coverage and put score, coverage and clause verdicts into the JUnit XML."""
    config = session.config
    run = config.stash.get(REPORT, None)
    if run is None:
        return
    client = config.stash.get(CLIENT, None)
    if client is not None:
        run.calls = list(client.calls)
        run.breadth_operations = set(client.breadth_operations)
    path = config.getoption("--report")
    if path:
        run.write(path)
    global _progress
    progress = config.stash.get(PROGRESS, None)
    if progress is not None:
        progress.close()
    _progress = None
    _finished.clear()
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest moved it; the JSON report still has everything
        return
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        for name, value in run.junit_properties():
            xml.add_global_property(name, value)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = config.stash.get(REPORT, None)
    if run is None:
        return
    path = config.getoption("--report")
    terminalreporter.section("conformance")
    target = run.target
    terminalreporter.write_line(
        f"provider={target.provider} target={target.name} tier={target.tier} strict={str(run.strict).lower()} "
        f"videos created={target.spent_videos}"
        + (f"/{target.budget_videos}" if target.budget_videos is not None else "")
    )
    for line in run.lines():
        terminalreporter.write_line(line)
    if path:
        terminalreporter.write_line(f"JSON report: {path}")


# ----- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The target under test."""
    return pytestconfig.stash[TARGET]


@pytest.fixture(scope="session")
def receiver_config(pytestconfig: pytest.Config) -> ReceiverConfig:
    """Where the suite's webhook receiver listens, and the URL the target is given for it."""
    return pytestconfig.stash[RECEIVER]


@pytest.fixture(scope="session")
def client(pytestconfig: pytest.Config, target: Target) -> Iterator[Client]:
    """The session's HTTP client (records request ids)."""
    c = Client(target)
    pytestconfig.stash[CLIENT] = c
    yield c
    c.close()


@pytest.fixture
def ev(request: pytest.FixtureRequest) -> Evidence:
    """Record clause verdicts: ev.check(CLAUSE, ok, message), ev.na(CLAUSE, reason)."""
    return request.node.stash[EVIDENCE]
