"""Reproducible run manifest: what ran, on which exact data, with which code."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent


@cache
def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=4)
def git_sha(repo: Path = _REPO) -> str | None:
    """HEAD commit of the source tree, or None outside a git checkout / before a commit."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def build_manifest(
    *,
    strategy: dict[str, Any],
    config: dict[str, Any],
    data_checksum: str,
    mode: str,
    symbols: list[str],
    start: str | None,
    end: str | None,
    n_bars: int,
) -> dict[str, Any]:
    return {
        "strategy": strategy,
        "config": config,
        "mode": mode,
        "data": {
            "sha256": data_checksum,
            "symbols": symbols,
            "start": start,
            "end": end,
            "n_bars": n_bars,
        },
        "versions": {
            "flowbt": _version("flowbt"),
            "python": platform.python_version(),
            "numpy": _version("numpy"),
            "pandas": _version("pandas"),
            "numba": _version("numba"),
            "vectorbt": _version("vectorbt"),
        },
        "git_sha": git_sha(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
