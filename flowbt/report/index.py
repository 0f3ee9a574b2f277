"""``index.html`` of a results folder: one table of its runs, linking each tearsheet.

A results folder is a run (``metrics.json``), an optimisation (``summary.json``), or a
folder of those (the book: one sub-folder per run). The index lists every run found
(the folder itself and its direct sub-folders) with its strategy, window, total
return, CAGR, Sharpe, max drawdown and trades, and for an optimisation the best
parameters, DSR and PBO; each name links to the run's ``tearsheet.html`` (else its
``metrics.json``), and a ``compare.html`` beside the index is linked at the top.

The page is self-contained: inline CSS, relative links, no script, font or image from
the network, so it opens offline by double-click. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

INDEX_FILE = "index.html"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       margin: 2em; color: #222; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.35em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
td.neg { color: #b00; }
p.note { color: #666; font-size: 0.85em; }
"""

_COLUMNS = (
    ("run", "run", "text"),
    ("strategy", "strategy", "text"),
    ("start", "start", "text"),
    ("end", "end", "text"),
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("n_trades", "trades", "int"),
    ("extra", "optimisation", "text"),
)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _row(folder: Path, root: Path) -> dict[str, Any] | None:
    """The index row of one run or optimisation folder (None when it is neither)."""
    metrics = _read(folder / "metrics.json")
    summary = _read(folder / "summary.json")
    if metrics is None and summary is None:
        return None
    rel = folder.relative_to(root).as_posix() if folder != root else "."
    page = "tearsheet.html" if (folder / "tearsheet.html").is_file() else None
    target = page or ("metrics.json" if metrics is not None else "summary.json")
    href = quote(f"{rel}/{target}")  # a folder named "a#b" or "x?y" still links to itself
    row: dict[str, Any] = {"run": folder.name or rel, "href": href}
    if (folder / "trades.html").is_file():
        row["trades_href"] = quote(f"{rel}/trades.html")
    if metrics is not None:
        row.update({k: metrics.get(k) for k in ("strategy", "start", "end", "total_return",
                                                 "cagr", "sharpe", "max_drawdown", "n_trades")})  # fmt: skip
    if summary is not None:
        manifest = _read(folder / "manifest.json") or {}
        row.update(
            strategy=manifest.get("strategy"),
            start=summary.get("start"),
            end=summary.get("end"),
            sharpe=summary.get("sharpe"),
        )
        row["extra"] = (
            f"best {summary.get('best_params')}; {summary.get('n_trials')} trials;"
            f" DSR {_num(summary.get('dsr'))}; PBO {_num(summary.get('pbo'))}"
        )
    for key in ("start", "end"):
        if isinstance(row.get(key), str):
            row[key] = row[key][:10]
    return row


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.2f}"
    return ""


def _cell(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '<td class="text"></td>' if kind == "text" else "<td></td>"
    if kind == "pct" and isinstance(value, int | float):
        cls = ' class="neg"' if value < 0 else ""
        return f"<td{cls}>{value:.1%}</td>"
    if kind == "num" and isinstance(value, int | float):
        return f"<td>{value:.2f}</td>"
    if kind == "int" and isinstance(value, int | float):
        return f"<td>{int(value)}</td>"
    return f'<td class="text">{html.escape(str(value))}</td>'


def runs_in(folder: Path) -> list[dict[str, Any]]:
    """Rows for the folder itself (if it is a run) and each run sub-folder, by name."""
    root = Path(folder)
    rows = [r for r in [_row(root, root)] if r is not None]
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        row = _row(sub, root)
        if row is not None:
            rows.append(row)
    return rows


def write_index(folder: str | Path, title: str | None = None) -> Path:
    """Write ``folder/index.html`` (see the module docstring); returns its path."""
    root = Path(folder)
    rows = runs_in(root)
    head = "".join(
        f'<th class="{"text" if kind == "text" else "num"}">{html.escape(label)}</th>'
        for _, label, kind in _COLUMNS
    )
    body = []
    for row in rows:
        cells = []
        for key, _, kind in _COLUMNS:
            if key == "run":
                href = html.escape(row["href"], quote=True)
                cells.append(
                    f'<td class="text"><a href="{href}">{html.escape(row["run"])}</a></td>'
                )
            elif key == "n_trades" and row.get("trades_href") and row.get(key) is not None:
                href = html.escape(row["trades_href"], quote=True)  # the interactive chart
                cells.append(f'<td><a href="{href}">{int(row[key])}</a></td>')
            else:
                cells.append(_cell(row.get(key), kind))
        body.append("<tr>" + "".join(cells) + "</tr>")
    compare = (
        '<p><a href="compare.html">compare the runs side by side</a></p>'
        if (root / "compare.html").is_file()
        else ""
    )
    name = html.escape(title or f"flowbt results: {root.resolve().name}")
    empty = '<p class="note">no runs in this folder</p>' if not rows else ""
    page = (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>{name}</h1>\n{compare}\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(body)
        + f"\n</tbody></table>\n{empty}"
        '<p class="note">Each run name opens its tearsheet, its trade count the'
        " interactive trades chart. Figures are those of the"
        " run's metrics.json (optimisations: the chosen trial's).</p>\n</body></html>\n"
    )
    path = root / INDEX_FILE
    path.write_text(page, encoding="utf-8")
    return path
