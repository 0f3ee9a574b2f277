"""What a sweep keeps on disk: chunk files, its identity, and the code version.

Under the output folder, ``chunks/`` holds one parquet file per finished chunk
(``chunk-<first trial>-<last trial>.parquet``, written to a temporary name and renamed,
so a killed sweep never leaves half a chunk) and ``sweep.json`` the sweep's identity
(strategy, space, method, seed, objective, chunk size, data checksum, code version).
``--resume`` reloads the chunks of a sweep with the same identity and computes only
the rest; another identity is refused rather than mixed.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from data.market import MarketData

SWEEP_FILE = "sweep.json"
CHUNK_DIR = "chunks"
_SOURCE_PACKAGES = ("data", "signals", "strategies", "engine", "flowbt")


@lru_cache(maxsize=1)
def code_version() -> str:
    """flowbt's version and a digest of its Python sources (changes with any edit)."""
    root = Path(__file__).resolve().parents[2]  # the source tree holding flowbt/
    h = hashlib.sha256()
    for pkg in _SOURCE_PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    try:
        from importlib import metadata

        version = metadata.version("flowbt")
    except Exception:  # not installed (a source checkout on sys.path)
        version = "0+source"
    return f"{version}+{h.hexdigest()[:12]}"


def chunk_path(out: Path, first: int, last: int) -> Path:
    return out / CHUNK_DIR / f"chunk-{first:07d}-{last:07d}.parquet"


def write_chunk(out: Path, first: int, last: int, frame: pd.DataFrame) -> Path:
    """Write one chunk atomically (temporary file, then rename)."""
    path = chunk_path(out, first, last)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def read_chunk(out: Path, first: int, last: int) -> pd.DataFrame | None:
    """A finished chunk, or None when it was never written (or is unreadable)."""
    path = chunk_path(out, first, last)
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception:  # a truncated or foreign file: computed again
        return None
    return frame if len(frame) == last - first + 1 else None


def identity_digest(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def check_resume(out: Path, identity: dict[str, Any], resume: bool) -> None:
    """With ``resume``, the folder must hold a sweep of the same identity; without it,
    stale chunks of an earlier sweep are removed so they cannot be mixed in."""
    path = out / SWEEP_FILE
    if resume:
        if not path.is_file():
            raise ValueError(
                f"--resume: {out} holds no sweep to resume ({SWEEP_FILE} missing);"
                " fix: run without --resume"
            )
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            raise ValueError(
                f"--resume: {path} is unreadable; fix: run without --resume into a new --out"
            ) from None
        if saved.get("digest") != identity_digest(identity):
            changed = sorted(
                k for k in identity if saved.get("identity", {}).get(k) != _plain(identity[k])
            )
            raise ValueError(
                f"--resume: the sweep in {out} differs ({', '.join(changed) or 'identity'});"
                " fix: repeat its exact options, or run without --resume into a new --out"
            )
        return
    chunks = out / CHUNK_DIR
    if chunks.is_dir():
        for stale in chunks.glob("chunk-*.parquet*"):
            stale.unlink()
    out.mkdir(parents=True, exist_ok=True)
    payload = {"identity": _plain(identity), "digest": identity_digest(identity)}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def market_checksum(md: MarketData) -> str:
    """sha256 over every table of a `data.MarketData` (prices, macro series, events):
    what a sweep's results and cached signals were computed from."""
    h = hashlib.sha256()
    for kind, table in (("prices", md.prices), ("macro", md.macro), ("events", md.events)):
        for name in sorted(table):
            h.update(f"{kind}:{name}".encode())
            frame = table[name]
            h.update(json.dumps([str(c) for c in frame.columns]).encode())
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()


class DiskSignalCache(dict[Any, Any]):
    """A signal cache (``engine.market.signals_for``'s ``cache``) that also keeps each
    computed signal on disk under ``folder``, keyed by the data checksum, the code
    version, the signal's name and its parameters: a later sweep on the same data and
    code reads it instead of computing it (``--signal-cache DIR``)."""

    def __init__(self, folder: Path, data_checksum: str) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.prefix = f"{data_checksum}|{code_version()}"

    def _path(self, key: Any) -> Path:
        _, name, params = key  # (id(md), signal name, repr of its sorted params)
        digest = hashlib.sha256(f"{self.prefix}|{name}|{params}".encode()).hexdigest()[:24]
        return self.folder / f"{name}-{digest}.parquet"

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or self._path(key).is_file()

    def __getitem__(self, key: Any) -> Any:
        if super().__contains__(key):
            return super().__getitem__(key)
        frame = pd.read_parquet(self._path(key))
        value: Any = frame.iloc[:, 0] if frame.attrs.get("flowbt_series") else frame
        if isinstance(value, pd.Series):
            value.name = frame.attrs.get("flowbt_name", value.name)
        super().__setitem__(key, value)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.folder.mkdir(parents=True, exist_ok=True)
        frame = value.to_frame() if isinstance(value, pd.Series) else value.copy()
        frame.attrs = {"flowbt_series": isinstance(value, pd.Series)}
        if isinstance(value, pd.Series):
            frame.attrs["flowbt_name"] = str(value.name)
        path = self._path(key)
        tmp = path.with_suffix(".parquet.tmp")
        frame.to_parquet(tmp)
        os.replace(tmp, path)
