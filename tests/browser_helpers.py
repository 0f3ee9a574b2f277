"""Headless Chromium for the page tests: Debian's ``chromium``, the binary and stdlib only.

`ensure_chromium` finds ``/usr/bin/chromium`` or installs Debian's package (root and
apt-get). `load` opens one page as a ``file://`` URL with the network disabled (every
host name resolves to nothing, no QUIC, no background services) and returns its
rendered DOM (``--dump-dom``) and/or a screenshot, and the requests Chrome's net log
recorded. The net log holds the browser's own background requests too (network time,
account lookups, spell-check dictionaries): a request is the page's when Chrome made it
on behalf of a ``file://`` document (its network isolation key, site for cookies or
initiator is the file page's), see `net_requests`. `Elements` lists what a DOM would
load (``link href``, ``script src``, ``img src``, CSS ``url()`` ...) for a static check.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_TIMEOUT = 1500  # s per apt-get call: chromium and its libraries on a slow mirror
LOAD_TIMEOUT = 120  # s, one page
VIRTUAL_TIME_MS = 3000  # page time granted (fast-forwarded) before the DOM is dumped
NETWORK_SCHEMES = ("http:", "https:", "ws:", "wss:", "ftp:", "//")

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--mute-audio",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no request can reach a host
    "--net-log-capture-mode=Default",
)


class ChromiumMissing(Exception):
    """Chromium is not there and cannot be installed here (the message says why)."""


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT, env=env)  # fmt: skip


def ensure_chromium() -> tuple[Path, float | None]:
    """The chromium binary, and the seconds its install took (None: it was there)."""
    if _usable(CHROMIUM):
        return CHROMIUM, None
    if shutil.which("apt-get") is None:
        raise ChromiumMissing("there is no apt-get on this machine")
    if os.geteuid() != 0:
        raise ChromiumMissing("apt-get needs root and this test does not run as root")
    began = time.monotonic()
    install = ("install", "-y", "--no-install-recommends", "chromium")
    try:
        done = _apt(*install)
        if done.returncode != 0:  # stale package lists: refresh them once, then retry
            _apt("update")
            done = _apt(*install)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChromiumMissing(f"`apt-get install chromium` failed: {exc}") from exc
    if done.returncode != 0 or not _usable(CHROMIUM):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ChromiumMissing(f"`apt-get install chromium` failed: {' / '.join(tail)}")
    return CHROMIUM, time.monotonic() - began


# ------------------------------------------------------------------------------ net log


def _read_net_log(path: Path) -> dict:
    text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    if not text.endswith("}"):  # cut short at exit: close the events list as Chrome would
        text = text.rstrip(",\n ") + "]}"
    log = json.loads(text)
    if "constants" not in log or not log.get("events"):
        raise AssertionError(f"{path} is not a Chrome net log with events")
    return log


def _for_file_page(params: dict) -> bool:
    initiator = str(params.get("initiator", ""))
    return (
        initiator == "null"  # a file:// document's origin is opaque: serialised "null"
        or initiator.startswith("file:")
        or str(params.get("network_isolation_key", "")).startswith("file://")
        or "site=file://" in str(params.get("site_for_cookies", ""))
    )


def net_requests(path: Path) -> tuple[list[str], list[str]]:
    """(the page's, the browser's own) URLs of every network request in a net log.

    The log is ``{"constants": {...}, "events": [...]}``; each event has a ``type`` and a
    ``source.type`` (ids, named in ``constants.logEventTypes`` / ``logSourceType``) and
    ``params``. A request is a URL_REQUEST source; its URL_REQUEST_START_JOB event
    (one per job, so also one per redirect) carries ``url``, ``initiator``,
    ``network_isolation_key`` and ``site_for_cookies``. file:// loads do not go through
    the network stack and are not in the log.
    """
    log = _read_net_log(path)
    constants = log["constants"]
    url_request = constants["logSourceType"]["URL_REQUEST"]
    start_job = constants["logEventTypes"]["URL_REQUEST_START_JOB"]
    page: list[str] = []
    browser: list[str] = []
    for event in log["events"]:
        if event.get("type") != start_job or event.get("source", {}).get("type") != url_request:
            continue
        params = event.get("params") or {}
        url = params.get("url")
        if isinstance(url, str):
            found = page if _for_file_page(params) else browser
            if url not in found:
                found.append(url)
    return page, browser


# ------------------------------------------------------------------------------ loading


@dataclass
class Loaded:
    url: str
    dom: str  # the serialised DOM after load (empty without dump_dom)
    screenshot: Path | None
    net_log: Path
    page_requests: list[str]  # network requests made for the page (should be none)
    browser_requests: list[str] = field(default_factory=list)  # Chrome's own, not the page's


def load(
    chromium: Path,
    page: Path,
    out: Path,
    *,
    dump_dom: bool = True,
    screenshot: Path | None = None,
    window: tuple[int, int] = (1280, 2000),
) -> Loaded:
    """Open ``page`` (a file) in headless Chromium, offline, with a fresh profile in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    url = page.resolve().as_uri()
    tag = f"{page.stem}-{'dom' if dump_dom else 'shot'}"
    net_log = out / f"{tag}.netlog.json"
    args = [
        str(chromium),
        *FLAGS,
        f"--user-data-dir={out / (tag + '-profile')}",
        f"--log-net-log={net_log}",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        f"--window-size={window[0]},{window[1]}",
    ]
    if dump_dom:
        args.append("--dump-dom")
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=LOAD_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode} on {url}: {done.stderr[-2000:]}")
    if dump_dom and "<html" not in done.stdout:
        raise RuntimeError(f"chromium dumped no DOM for {url}: {done.stderr[-2000:]}")
    page_requests, browser_requests = net_requests(net_log)
    return Loaded(url, done.stdout, screenshot, net_log, page_requests, browser_requests)


# ------------------------------------------------------------------------------ the DOM


def is_remote(url: str) -> bool:
    """A URL that would go to the network (a scheme of the network, or //host)."""
    return url.strip().lower().startswith(NETWORK_SCHEMES)


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)


class Elements(HTMLParser):
    """Start tags with attributes, table rows (cell texts), links and loaded resources."""

    LOADS = {  # tag -> attributes whose URL the browser fetches on its own (not <a>)
        "link": ("href",),
        "script": ("src",),
        "img": ("src", "srcset"),
        "iframe": ("src",),
        "frame": ("src",),
        "source": ("src", "srcset"),
        "video": ("src", "poster"),
        "audio": ("src",),
        "track": ("src",),
        "embed": ("src",),
        "object": ("data",),
        "input": ("src",),
        "image": ("href", "xlink:href"),  # svg
        "use": ("href", "xlink:href"),  # svg
        "feimage": ("href", "xlink:href"),  # svg
    }

    def __init__(self, dom: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.tables: list[list[list[str]]] = []  # each table: its rows, each row its cells
        self.resources: list[str] = []  # URLs the page loads by itself
        self._open: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._in_cell = False
        self._in_style = False
        self.feed(dom)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        for name in self.LOADS.get(tag, ()):
            urls = values.get(name, "")
            self.resources.extend(urls.split(",") if name == "srcset" else [urls] if urls else [])
        if "style" in values:
            self._css(values["style"])
        if tag == "style":
            self._in_style = True
        elif tag == "table":
            self._open.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag in ("td", "th"):
            self._in_cell = False
        elif tag == "tr" and self._row is not None:
            if self._open:
                self._open[-1].append([" ".join(cell.split()) for cell in self._row])
            self._row = None
        elif tag == "table" and self._open:
            self.tables.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data)
        if self._in_cell and self._row is not None:
            self._row[-1] += data

    def _css(self, text: str) -> None:
        for match in _CSS_URL.finditer(text):
            self.resources.append(match.group(1) or match.group(2))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.tags if t == tag]

    def remote_resources(self) -> list[str]:
        return sorted({url.strip().split(" ")[0] for url in self.resources if is_remote(url)})

    def table_with(self, first_header: str) -> dict[str, list[str]]:
        """The table whose first header cell is ``first_header``: {row name: other cells}."""
        for rows in self.tables:
            if rows and rows[0] and rows[0][0] == first_header:
                return {row[0]: row[1:] for row in rows[1:] if row}
        raise AssertionError(f"no table headed {first_header!r} in the page")


# ------------------------------------------------------------------------------ pictures


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    colours: int  # distinct RGB colours
    drawn: float  # share of pixels that differ from the background (the median colour)
    coloured: float  # share of saturated pixels (chart lines and bars; text is grey)


def picture(png: bytes | Path) -> Picture:
    """What a PNG shows, read with matplotlib (Pillow when installed)."""
    import matplotlib.image as mpimg

    source = io.BytesIO(png) if isinstance(png, bytes) else str(png)
    pixels = np.asarray(mpimg.imread(source, format="png"), dtype=float)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    rgb = pixels[..., :3]
    if rgb.max() > 1.0:  # integer images come back as 0..255
        rgb = rgb / 255.0
    flat = rgb.reshape(-1, 3)
    background = np.median(flat, axis=0)
    codes = np.round(flat * 255).astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])
    colours = len(np.unique(codes))
    drawn = float((np.abs(rgb - background).max(axis=-1) > 0.1).mean())
    coloured = float(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25).mean())
    return Picture(rgb.shape[1], rgb.shape[0], colours, drawn, coloured)
