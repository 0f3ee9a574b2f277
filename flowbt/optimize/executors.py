"""Where chunks run: this process (``local``, numba threads on every core) or a Dask
cluster (``dask``: a `distributed.LocalCluster` of two worker processes, or the
scheduler at ``--address``).

On Dask the sweep's setup (bars, signals, prices) is scattered once to every worker
and each chunk is one task; a worker compiles the kernels once (numba's on-disk cache
makes later workers load them) and runs its chunks with one numba thread, so workers
do not fight over cores. Either way a chunk's result depends only on its trials:
results are identical for any executor, worker count and chunk size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from flowbt.optimize.trials import ChunkResult, SweepSetup, evaluate

Chunk = Sequence[tuple[int, dict[str, Any]]]
EXECUTORS = ("local", "dask")


class Executor(Protocol):
    def run(self, setup: SweepSetup, chunks: Sequence[Chunk]) -> Iterator[tuple[int, ChunkResult]]:
        """Each chunk's result with its position in ``chunks`` (in any order)."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """Chunks one after another in this process, trials in parallel threads."""

    def run(self, setup: SweepSetup, chunks: Sequence[Chunk]) -> Iterator[tuple[int, ChunkResult]]:
        for k, chunk in enumerate(chunks):
            yield k, evaluate(setup, chunk)

    def close(self) -> None:
        pass


def _one_thread() -> None:
    import numba

    numba.set_num_threads(1)


class DaskExecutor:
    """Chunks as tasks on a Dask cluster; the setup is scattered once per version."""

    def __init__(self, address: str | None = None, n_workers: int = 2) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - the dask extra is part of dev
            raise ValueError(
                "--executor dask needs the dask extra (not installed); fix: pip install"
                " 'flowbt[dask]'"
            ) from None
        self._cluster: Any = None
        if address:
            try:
                self.client = Client(address, timeout="5s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(
                    f"cannot reach a dask scheduler at {address} ({type(exc).__name__});"
                    " fix: start one with `dask scheduler` or drop --address"
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self._cluster)
        self.client.run(_one_thread)
        self._scattered: Any = None
        self._setup_id: int | None = None
        self._n_signals = -1  # signal sets scattered: optuna may add some between batches

    def run(self, setup: SweepSetup, chunks: Sequence[Chunk]) -> Iterator[tuple[int, ChunkResult]]:
        from distributed import as_completed

        if self._setup_id != id(setup) or len(setup.signals) != self._n_signals:
            self._scattered = self.client.scatter(setup, broadcast=True)
            self._setup_id, self._n_signals = id(setup), len(setup.signals)
        futures = {
            self.client.submit(evaluate, self._scattered, list(chunk), pure=False): k
            for k, chunk in enumerate(chunks)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(name: str, address: str | None = None) -> Executor:
    if name not in EXECUTORS:
        raise ValueError(
            f"unknown executor {name!r} (--executor); fix: use one of {', '.join(EXECUTORS)}"
        )
    if address and name != "dask":
        raise ValueError("--address is for --executor dask; fix: add --executor dask")
    return DaskExecutor(address) if name == "dask" else LocalExecutor()
