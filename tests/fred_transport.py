"""The FRED API's HTTP transport for fredapi, replaced and nothing else.

fredapi builds its URL (``...&api_key=<key>``), calls ``urllib.request.urlopen`` and
parses the XML itself. `install` swaps only urllib's HTTPS *connection* for one that
records what was sent and answers from recorded FRED observations (or a FRED error page),
so urllib's request handling, http.client's URL checks and fredapi's parsing all run.
"""

from __future__ import annotations

import http.client
import io
import urllib.request
from pathlib import Path
from xml.sax.saxutils import quoteattr

RECORDED = Path(__file__).parent / "fixtures" / "recorded"


def observations_xml(csv_text: str) -> bytes:
    """fred_WALCL.csv's values as the FRED API's ``series/observations`` XML answer."""
    rows = [line.split(",") for line in csv_text.strip().splitlines()[1:]]
    body = "".join(
        f'  <observation realtime_start="2024-05-01" realtime_end="2024-05-01" '
        f'date="{day}" value="{value}"/>\n'
        for day, value in rows
    )
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        f'<observations realtime_start="2024-05-01" realtime_end="2024-05-01" '
        f'count="{len(rows)}" offset="0" limit="100000">\n{body}</observations>\n'
    ).encode()


def error_xml(message: str) -> bytes:
    """FRED's error answer (HTTP 400), e.g. for a bad api_key."""
    return (
        f'<?xml version="1.0" encoding="utf-8" ?>\n<error code="400" message={quoteattr(message)}/>'
    ).encode()


class FredWire:
    """What the fake FRED server answers and what it was sent."""

    def __init__(self, body: bytes | None = None, status: int = 200) -> None:
        self.body = (
            body
            if body is not None
            else observations_xml((RECORDED / "fred_WALCL.csv").read_text())
        )
        self.status = status
        self.sent: list[bytes] = []


class _Socket:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, *args: object, **kwargs: object) -> io.BytesIO:
        return io.BytesIO(self._data)

    def close(self) -> None:
        pass


def install(monkeypatch, wire: FredWire) -> FredWire:  # noqa: ANN001 - pytest's MonkeyPatch
    """Route urllib's HTTPS requests (fredapi's only transport) to ``wire``.

    Skips when fredapi is not installed (it is in the dev extra): without it flowbt would
    take the keyless CSV path, through a real ``requests`` session.
    """
    import pytest

    pytest.importorskip("fredapi")

    class Connection(http.client.HTTPSConnection):
        def connect(self) -> None:  # no socket: the bytes are recorded instead
            self.sock = None

        def send(self, data: bytes) -> None:
            wire.sent.append(bytes(data))

        def getresponse(self) -> http.client.HTTPResponse:
            reason = "OK" if wire.status < 400 else "Bad Request"
            raw = (
                f"HTTP/1.1 {wire.status} {reason}\r\nContent-Type: text/xml; charset=UTF-8\r\n"
                f"Content-Length: {len(wire.body)}\r\n\r\n"
            ).encode() + wire.body
            response = http.client.HTTPResponse(_Socket(raw), method="GET")  # type: ignore[arg-type]
            response.begin()
            return response

    class Handler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(Connection, req)

    monkeypatch.setattr(urllib.request, "_opener", urllib.request.build_opener(Handler))
    return wire
