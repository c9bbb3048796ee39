"""docs/deploy/ is tested code: every command in the compose file and the Kubernetes sketch parses
with the CLI and passes its checks, the parts share one Redis and one media path, and nginx's
upstream names the front-ends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.cli import build_parser, settings_from_args

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


def check_command(command: list[str]) -> dict[str, Any]:
    """Parse `command` as `avatar-emulator` would and run its checks; the parsed flags."""
    args = build_parser().parse_args(command)
    if args.command == "serve":
        settings = settings_from_args(args)  # raises SystemExit on a bad combination
        assert settings.state is not None and settings.data_dir is not None
    return {"role": args.command, "state": args.state, "data_dir": str(args.data_dir)}


def compose_parts() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Each emulator service of compose.yaml: (its service block, its mount paths)."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    parts = {}
    for name, service in compose["services"].items():
        if service.get("image") == "avatar-emulator":
            mounts = [volume.split(":")[1] for volume in service["volumes"]]
            parts[name] = (check_command(service["command"]), mounts)
    return parts


def test_the_compose_file_runs_two_front_ends_and_two_workers_on_one_redis_and_volume() -> None:
    parts = compose_parts()
    roles = sorted(flags["role"] for flags, _ in parts.values())
    assert roles == ["serve", "serve", "worker", "worker"]
    assert len({flags["state"] for flags, _ in parts.values()}) == 1
    assert len({flags["data_dir"] for flags, _ in parts.values()}) == 1
    for flags, mounts in parts.values():
        assert flags["data_dir"] in mounts
    redis = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["redis"]["command"]
    assert "--appendonly" in redis and redis[redis.index("--appendonly") + 1] == "yes"


def test_nginx_balances_over_exactly_the_compose_front_ends() -> None:
    upstream = re.findall(r"^\s*server\s+([\w.-]+):(\d+);", (DEPLOY / "nginx.conf").read_text(), re.MULTILINE)
    front_ends = {(name, "8000") for name, (flags, _) in compose_parts().items() if flags["role"] == "serve"}
    assert set(upstream) == front_ends
    assert "proxy_buffering off" in (DEPLOY / "nginx.conf").read_text()


def test_the_kubernetes_sketch_mounts_media_where_every_container_keeps_it() -> None:
    documents = [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()) if doc]
    containers = [c for doc in documents if doc["kind"] == "Deployment"
                  for c in doc["spec"]["template"]["spec"]["containers"]]  # fmt: skip
    parsed = [(check_command(c["args"]), [m["mountPath"] for m in c["volumeMounts"]]) for c in containers]
    assert sorted(flags["role"] for flags, _ in parsed) == ["serve", "worker"]
    assert len({flags["state"] for flags, _ in parsed}) == 1
    for flags, mounts in parsed:
        assert flags["data_dir"] in mounts


def test_a_command_the_cli_refuses_fails_this_check() -> None:
    with pytest.raises(SystemExit):
        check_command(["serve", "--state", "redis://redis:6379/0", "--workers", "2"])  # no --data-dir
