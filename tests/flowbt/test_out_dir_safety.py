"""Output folders: flowbt writes only into folders it made, leaves only its own outputs,
and refuses an unwritable folder before any work (issue 13).

Every writer is covered: ``flowbt run``/``flowbt backtest``, the book, ``flowbt optimize``
and ``flowbt compare``. A refused folder is compared byte for byte (names, contents,
modification times) before and after.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from bt_helpers import run_cli

from flowbt.book import BOOK_FILE, BookRun, run_book
from flowbt.experiment import Experiment
from flowbt.optimize.outputs import check_sweep_dir
from flowbt.report.files import MANIFEST, check_out_dir, read_mark

LINE = re.compile(r"^flowbt: error: .+ \(.+\); fix: .+$")
WINDOW = ("--start", "2024-01-02", "--end", "2024-06-28")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_error_line(code: int, out: str, err: str, needle: str) -> None:
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and LINE.match(err.strip()), err
    assert needle in err, err
    assert "Traceback" not in out + err


@pytest.fixture
def csv_file(tmp_path: Path, spy: pd.DataFrame) -> Path:
    path = tmp_path / "SPY.csv"
    df = spy.iloc[-300:].copy()
    df.index = df.index.tz_convert(None)
    df.to_csv(path, index_label="date")
    return path


FOREIGN = [
    pytest.param(b"", id="empty-file"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(b'{"strategy": {"strategy": "sma_cross"}, "mode": "event"}', id="look-alike"),
    pytest.param(b'{"flowbt": "run"}', id="marker-not-a-table"),
    pytest.param(b'{"flowbt": {"schema": 2, "kind": "run", "files": []}}', id="other-schema"),
    pytest.param(b'{"flowbt": {"schema": true, "kind": "run", "files": []}}', id="bool-schema"),
    pytest.param(b'{"flowbt": {"schema": 1, "kind": "mine", "files": []}}', id="unknown-kind"),
    pytest.param(b'{"flowbt": {"schema": 1, "kind": "run"}}', id="no-files"),
    pytest.param(
        b'{"flowbt": {"schema": 1, "kind": "run", "files": ["../victim.txt"]}}', id="escape"
    ),
    pytest.param(b"[1, 2]", id="a-list"),
    pytest.param(b"\xff\xfe not json", id="binary"),
]


@pytest.mark.parametrize("content", FOREIGN)
def test_a_manifest_flowbt_did_not_write_is_refused_untouched(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / MANIFEST).write_bytes(content)
    (mine / "notes.txt").write_text("my own work")
    (tmp_path / "victim.txt").write_text("outside")
    before = snapshot(tmp_path)
    assert read_mark(mine / MANIFEST) is None
    code, out, err = run_cli(
        capsys, "run", "sma_cross", "--data", str(csv_file), "--out", str(mine)
    )
    one_error_line(code, out, err, "manifest.json that flowbt did not write")
    assert f"--out {mine}-2" in err  # the fix names a folder that is free
    assert snapshot(tmp_path) == before


def test_every_writer_refuses_a_foreign_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled: object
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / MANIFEST).write_text("{}")
    (mine / "data.csv").write_text("a,b\n1,2\n")
    before = snapshot(mine)
    invocations = [
        ("backtest", "sma_cross", "--symbols", "SPY", *WINDOW, "--out", str(mine)),
        ("optimize", "sma_cross", "--grid", "fast=5,10", "--symbols", "SPY", "--out", str(mine)),
        ("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(mine)),
        ("book", "--out", str(mine)),
    ]
    for args in invocations:
        code, out, err = run_cli(capsys, *args)
        one_error_line(code, out, err, str(mine))
        assert snapshot(mine) == before, args


def test_a_forged_book_marker_or_sweep_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / BOOK_FILE).write_text('{"flowbt": "book"}')  # the name alone proves nothing
    (book / "summary.csv").write_text("mine\n")
    before = snapshot(book)
    runs = [BookRun("one", Experiment(strategy="sma_cross", symbols=("SPY",)))]
    with pytest.raises(ValueError, match="flowbt-book.json that flowbt did not write"):
        run_book(book, runs=runs)
    assert snapshot(book) == before
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text('{"identity": {"strategy": "x"}, "digest": "0"}')
    with pytest.raises(ValueError, match="not empty and holds no flowbt run"):
        check_sweep_dir(sweep)


def test_a_run_folder_is_not_a_compare_folder(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "run", "sma_cross", "--data", str(csv_file), "--out", str(run))
    assert code == 0, err
    assert read_mark(run / MANIFEST) == {
        **(read_mark(run / MANIFEST) or {}),
        "schema": 1,
        "kind": "run",
    }
    before = snapshot(run)
    with pytest.raises(ValueError, match="holds a flowbt run whose manifest.json the compare"):
        check_out_dir(run, "compare")
    assert snapshot(run) == before


# ------------------------------------------------------------ reruns


def test_run_over_a_backtest_folder_leaves_only_its_own_outputs(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str], bundled: object
) -> None:
    out = tmp_path / "res"
    code, _, err = run_cli(capsys, "backtest", "sma_cross", "--symbols", "SPY", *WINDOW,
                           "--out", str(out))  # fmt: skip
    assert code == 0, err
    first = {p.name for p in out.iterdir()}
    assert {"tearsheet.html", "quantstats.csv", "index.html"} <= first
    listed = json.loads((out / MANIFEST).read_text())["flowbt"]["files"]
    assert set(listed) == first  # the manifest lists every file the backtest wrote
    (out / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "run", "sma_cross", "--data", str(csv_file), "--out", str(out))
    assert code == 0, err
    now = {p.name for p in out.iterdir()}
    assert not now & {"tearsheet.html", "quantstats.csv", "index.html"}
    assert (out / "notes.txt").read_text() == "mine"
    mark = json.loads((out / MANIFEST).read_text())["flowbt"]
    assert set(mark["files"]) == now - {"notes.txt"} and mark["foreign"] == ["notes.txt"]
    assert json.loads((out / MANIFEST).read_text())["data"]["file"] == str(csv_file)


def test_a_file_the_earlier_run_did_not_write_is_never_replaced(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str], bundled: object
) -> None:
    out = tmp_path / "res"
    code, _, err = run_cli(capsys, "run", "sma_cross", "--data", str(csv_file), "--out", str(out))
    assert code == 0, err
    (out / "tearsheet.html").write_text("<p>my own page</p>")  # flowbt run writes none
    before = snapshot(out)
    code, stdout, err = run_cli(capsys, "backtest", "sma_cross", "--symbols", "SPY", *WINDOW,
                                "--out", str(out))  # fmt: skip
    one_error_line(code, stdout, err, "holds tearsheet.html, which no earlier flowbt output")
    assert snapshot(out) == before
    # the same user file is left alone by a rerun that does not write it
    code, _, err = run_cli(capsys, "run", "sma_cross", "--data", str(csv_file), "--out", str(out))
    assert code == 0, err
    assert (out / "tearsheet.html").read_text() == "<p>my own page</p>"


def test_a_marker_naming_files_outside_the_folder_removes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    (tmp_path / "victim.txt").write_text("keep")
    mark = {"flowbt": {"schema": 1, "kind": "run", "files": ["../victim.txt", "metrics.json"]}}
    (out / MANIFEST).write_text(json.dumps(mark))
    with pytest.raises(ValueError, match="did not write"):
        check_out_dir(out, "run")
    assert (tmp_path / "victim.txt").read_text() == "keep"


def test_a_book_rerun_removes_the_runs_it_no_longer_makes(tmp_path: Path, bundle: object) -> None:
    def exp(fast: int) -> Experiment:
        return Experiment(strategy="sma_cross", symbols=("SPY",), start="2022-01-03",
                          end="2024-06-28", params={"fast": fast})  # fmt: skip

    out = tmp_path / "book"
    runs = [BookRun("a", exp(5)), BookRun("b", exp(10)), BookRun("c", exp(20))]
    run_book(out, runs=runs, md=bundle, progress=lambda _: None, tearsheet=False)  # type: ignore[arg-type]
    assert {"a", "b", "c", "compare.html", "summary.csv", BOOK_FILE} <= {
        p.name for p in out.iterdir()
    }
    (out / "c" / "notes.txt").write_text("mine")
    run_book(out, runs=runs[:1], md=bundle, progress=lambda _: None, tearsheet=False)  # type: ignore[arg-type]
    names = {p.name for p in out.iterdir()}
    assert "b" not in names  # only flowbt's files were in it: gone
    assert [p.name for p in (out / "c").iterdir()] == ["notes.txt"]  # the user's file stays
    assert "compare.html" not in names  # one run: no compare page, the old one removed
    assert len(pd.read_csv(out / "summary.csv")) == 1


# ------------------------------------------------------------ unwritable folders


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """Make ``folder`` unwritable: chmod 0o555, or (root passes permission bits) the
    immutable attribute; skip only where neither can block a write."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    try:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    except OSError as exc:
        pytest.skip(f"running as root and chattr is unavailable ({exc}): cannot block writes")
    if done.returncode != 0:
        pytest.skip(f"running as root and chattr +i fails here ({done.stderr.strip()})")
    try:
        probe = folder / "probe"
        with contextlib.suppress(OSError):
            probe.write_text("x")
            probe.unlink()
            pytest.skip("running as root and chattr +i does not block writes here")
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_an_unwritable_folder_is_refused_before_the_backtest(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import flowbt.cli.run as cli_run

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backtest ran before the folder was checked")

    monkeypatch.setattr(cli_run, "run", never)
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked):
        for out in (locked, locked / "sub" / "res"):
            code, stdout, err = run_cli(
                capsys, "run", "sma_cross", "--data", str(csv_file), "--out", str(out)
            )
            one_error_line(code, stdout, err, "cannot be written")
            assert str(out) in err
        assert list(locked.iterdir()) == []


def test_every_writer_checks_writability_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled: object, monkeypatch
) -> None:
    import flowbt.runs

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the folder was checked")

    monkeypatch.setattr(flowbt.runs, "run_market", never)
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked):
        out = str(locked / "res")
        invocations = [
            ("backtest", "sma_cross", "--symbols", "SPY", *WINDOW, "--out", out),
            ("optimize", "sma_cross", "--grid", "fast=5,10", "--symbols", "SPY", "--out", out),
            ("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", out),
            ("book", "--out", out),
        ]
        for args in invocations:
            code, stdout, err = run_cli(capsys, *args)
            one_error_line(code, stdout, err, "cannot be written")
        assert list(locked.iterdir()) == []


# ------------------------------------------------------------ too few bars


def test_fewer_bars_than_the_strategy_needs_is_a_warning(
    tmp_path: Path, spy: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    for n, warned in ((30, True), (50, True), (51, False), (120, False)):
        path = tmp_path / f"SPY{n}.csv"
        df = spy.iloc[-n:].copy()
        df.index = df.index.tz_convert(None)
        df.to_csv(path, index_label="date")
        out = tmp_path / f"r{n}"
        code, stdout, err = run_cli(capsys, "run", "sma_cross", "--data", str(path),
                                    "--out", str(out))  # fmt: skip
        assert code == 0, err
        warnings = json.loads((out / "metrics.json").read_text())["warnings"]
        if warned:
            want = "sma_cross (fast=10, slow=50) needs more than 50 bars before its first trade"
            assert len(warnings) == 1 and warnings[0].startswith(want)
            assert f"the run has {n}" in warnings[0]
            assert "WARNING: " + warnings[0] in stdout
        else:
            assert warnings == [] and "WARNING" not in stdout


def test_a_short_bundled_window_warns_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled: object
) -> None:
    out = tmp_path / "short"
    code, stdout, err = run_cli(capsys, "backtest", "sma_cross", "--symbols", "SPY", "--start",
                                "2024-01-02", "--end", "2024-02-15", "--param", "slow=40",
                                "--no-tearsheet", "--out", str(out))  # fmt: skip
    assert code == 0, err
    (warning,) = json.loads((out / "metrics.json").read_text())["warnings"]
    assert "needs more than 40 bars" in warning and "WARNING:" in stdout


def test_a_foreign_run_folder_inside_a_book_is_refused_with_the_books_fix(
    tmp_path: Path,
) -> None:
    out = tmp_path / "results"
    (out / "a").mkdir(parents=True)
    mark = {"schema": 1, "kind": "book", "files": [BOOK_FILE]}
    (out / BOOK_FILE).write_text(json.dumps({"flowbt": mark, "runs": ["a"]}))
    (out / "a" / MANIFEST).write_text("{}")
    (out / "a" / "mine.csv").write_text("x\n")
    before = snapshot(out)
    runs = [BookRun("a", Experiment(strategy="sma_cross", symbols=("SPY",)))]
    with pytest.raises(ValueError, match=rf"did not write \({out / 'a'}\); fix: .* --out {out}-2$"):
        run_book(out, runs=runs)
    assert snapshot(out) == before


def test_the_suggested_folder_is_free(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowbt.report.files import free_name

    (tmp_path / "res").mkdir()
    (tmp_path / "res-2").mkdir()
    assert free_name(tmp_path / "res") == tmp_path / "res-3"
    monkeypatch.chdir(tmp_path / "res")
    assert free_name(Path(".")) == tmp_path / "res-3"  # "." names the folder itself
    assert not free_name(Path("/")).exists()
