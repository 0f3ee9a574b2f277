"""``trades.html``: the interactive twin of ``trades.png`` (plotly, self-contained).

The same panels as `flowbt.report.run_plots.plot_trades`: one per traded symbol (the
`traded_symbols`, at most ``MAX_TRADE_PANELS``) with the run's close and every fill at
its bar and fill price (buys green triangle-up, sells red triangle-down), and the
strategy's signal on the run's bars below (`run_plots.run_signal`: each bar gets the
latest row known by its close, as the run saw it). Hovering a fill shows its UTC
instant, side, units, price, notional and fees; the panels share one time axis (drag
to zoom, double-click to reset, a range slider under the last panel).

Plotly writes the page with its JavaScript inlined, so it opens offline by
double-click and requests nothing (plotly's "include_plotlyjs=True"; no CDN, no
MathJax). Prices are those the run traded (portfolio currency, adjusted as run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.result import Result
from flowbt.report.run_plots import MAX_TRADE_PANELS, _naive, _signal_frame, traded_symbols

PAGE = "trades.html"
PANEL_PX = 260  # height of one price panel
SIGNAL_PX = 200


def _fill_text(rows: pd.DataFrame) -> list[str]:
    when = pd.DatetimeIndex(rows["date"]).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    size = rows["size"].to_numpy(dtype=float)
    price = rows["price"].to_numpy(dtype=float)
    fees = rows["fees"].to_numpy(dtype=float)
    return [
        f"{w}<br>{'buy' if s > 0 else 'sell'} {abs(s):,.6g} @ {p:,.6g}"
        f"<br>notional {abs(s) * p:,.2f}, fees {f:,.2f}"
        for w, s, p, f in zip(when, size, price, fees, strict=True)
    ]


def trades_figure(result: Result, signal: pd.DataFrame | pd.Series | None = None) -> Any:
    """The plotly figure of ``trades.html`` (see the module docstring)."""
    from plotly import graph_objects as go
    from plotly.subplots import make_subplots

    fills = result.fills
    symbols = traded_symbols(result) or list(result.positions.columns)[:MAX_TRADE_PANELS]
    frame = _signal_frame(signal) if signal is not None else None
    has_signal = frame is not None and frame.shape[1] > 0 and len(result.equity) > 0
    name = signal.attrs.get("name") if signal is not None else None
    titles = [str(s) for s in symbols] + ([f"signal: {name or 'signal'}"] if has_signal else [])
    heights = [PANEL_PX] * len(symbols) + ([SIGNAL_PX] if has_signal else [])
    fig = make_subplots(rows=len(titles), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=titles, row_heights=heights)  # fmt: skip
    for row, symbol in enumerate(symbols, start=1):
        close = result.close[symbol].dropna().astype(float)
        fig.add_trace(go.Scatter(x=_naive(close.index), y=close.to_numpy(), mode="lines",
                                 name=f"{symbol} close", line={"color": "black", "width": 1},
                                 hovertemplate="%{x|%Y-%m-%d %H:%M} close %{y:,.6g}"
                                               "<extra></extra>"), row=row, col=1)  # fmt: skip
        mine = fills[fills["symbol"] == symbol] if len(fills) else fills
        for side, rows, marker, color in (
            ("buy", mine[mine["size"] > 0], "triangle-up", "green"),
            ("sell", mine[mine["size"] < 0], "triangle-down", "red"),
        ):
            if not len(rows):
                continue
            fig.add_trace(go.Scatter(
                x=_naive(pd.DatetimeIndex(rows["date"])), y=rows["price"].to_numpy(float),
                mode="markers", name=f"{symbol} {side} ({len(rows)})", text=_fill_text(rows),
                hovertemplate="%{text}<extra></extra>",
                marker={"symbol": marker, "color": color, "size": 9,
                        "line": {"color": "black", "width": 0.5}},
            ), row=row, col=1)  # fmt: skip
        prices = close.to_numpy()
        finite = prices[np.isfinite(prices) & (prices > 0)]
        if finite.size and float(finite.max() / finite.min()) > 5.0:
            fig.update_yaxes(type="log", row=row, col=1)
    if has_signal and frame is not None:
        values = frame.set_axis(_naive(frame.index))
        lo, hi = _naive(result.equity.index[[0, -1]])
        values = values.loc[(values.index >= lo) & (values.index <= hi)]
        for col, color in zip(values.columns, ("purple", "orange"), strict=False):
            fig.add_trace(go.Scatter(x=values.index, y=values[col].to_numpy(), mode="lines",
                                     name=str(col), line={"color": color, "width": 1}),
                          row=len(titles), col=1)  # fmt: skip
    fig.update_xaxes(rangeslider={"visible": True, "thickness": 0.04}, row=len(titles), col=1)
    fig.update_layout(
        title=f"{result.manifest_name()}: trades on price ({len(fills)} fills)",
        height=120 + sum(heights),
        template="plotly_white",
        hovermode="closest",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def write_trades_page(
    result: Result, path: str | Path, signal: pd.DataFrame | pd.Series | None = None
) -> Path:
    """Write ``trades.html`` (self-contained, offline) to ``path`` and return it."""
    path = Path(path)
    fig = trades_figure(result, signal)
    fig.write_html(path, include_plotlyjs=True, include_mathjax=False, full_html=True,
                   config={"displaylogo": False})  # fmt: skip
    return path
