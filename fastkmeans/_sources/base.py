"""The data-source protocol: rows in blocks, and the passes the loops need, written once.

A source is the only place that knows what X is. Concrete sources say how to run a block
function on every block (:meth:`BlockSource.map`), how to read rows by index and what the
weights are; everything else (the assignment pass, the farthest points, final labels and
cluster weights) is written here once, over ``map``, and so is the same for data in memory
(one block), in row blocks of a memmap, or in Dask blocks on workers.

A block function has the signature ``fn(x, w, state, offset, args) -> (state, result)``:
``x`` the block's prepared rows (C-contiguous float32/float64, unit rows for cosine), ``w``
its float64 weights, ``state`` what the function kept for this block on its last call (None
at first), ``offset`` the block's first global row, ``args`` a dict shared by all blocks.
Block functions are module-level, so that Dask can ship them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._assign import (
    Plan,
    RowState,
    assign_block,
    farthest_block,
    farthest_order,
    unpack,
)

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]
BlockFn = Callable[[Any, F8, Any, int, dict[str, Any]], tuple[Any, Any]]


def merge_moments(parts: list[tuple[int, F8, F8]], d: int) -> tuple[F8, F8]:
    """Per-feature mean and population variance from per-block ``(count, mean, m2)``,
    merged in block order (Chan, Golub and LeVeque)."""
    count, mean, m2 = 0, np.zeros(d), np.zeros(d)
    for nb, bmean, bm2 in parts:
        if nb == 0:
            continue
        total = count + nb
        delta = bmean - mean
        mean = mean + delta * (nb / total)
        m2 = m2 + bm2 + delta**2 * (count * nb / total)
        count = total
    return mean, m2 / max(count, 1)


def sum_packed(*parts: F8) -> F8:
    """Partial results added in the order given."""
    out = np.array(parts[0], dtype=np.float64)
    for p in parts[1:]:
        out += p
    return out


# --------------------------------------------------------------------------- block functions
def assign_task(x: Floats, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """One block of an assignment pass (:func:`fastkmeans._assign.assign_block`). On a
    worker the state is copied first: a persisted input must stay as it was, should Dask
    run the task again."""
    if state is None:
        state = RowState(x.shape[0])
    elif args["worker"]:
        state = state.copy()
    return assign_block(x, w, state, args["plan"], args["worker"])


def farthest_task(x: Floats, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """The block's candidates for re-seeding (:func:`fastkmeans._assign.farthest_block`)."""
    return state, farthest_block(x, w, state, args["centers"], args["m"], offset, args["worker"])


def labels_task(x: Any, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """The block's labels as int64, handed over: the run is over and its state dropped
    (no copy of the labels where intp is int64; a later pass starts from no labels)."""
    return None, state.labels.astype(np.int64, copy=False)


class BlockSource:
    """Base of every source. Subclasses set ``n``, ``d``, ``dtype``, ``cosine``,
    ``offsets`` (block boundaries), ``mean``/``var`` (per-feature, float64),
    ``block_weight`` (weight per block), ``worker`` (blocks run on Dask workers) and
    ``kind`` (a name for messages), and implement :meth:`map`, :meth:`rows` and
    :meth:`all_weights`."""

    n: int
    d: int
    dtype: Any
    cosine: bool
    offsets: NDArray[np.intp]
    mean: F8
    var: F8
    block_weight: F8
    n_positive: int
    worker: bool = False
    kind: str = "data"
    #: Whether Lloyd's passes on these rows can keep per-chunk partial sums between passes
    #: and update them by the rows that change label (the sparse kernels recompute them).
    incremental: bool = True
    #: Weights are held divided by this power of two (see ``_validation.weight_scale``);
    #: inertias and cluster weights are multiplied back.
    weight_scale: float = 1.0

    # ---------------------------------------------------------------- to implement
    def map(
        self,
        fn: BlockFn,
        states: list[Any],
        args: dict[str, Any],
        *,
        only: list[int] | None = None,
        reduce: bool = False,
        needs_x: bool = True,
    ) -> tuple[list[Any], Any]:
        """Run ``fn`` on every block (or the blocks ``only``); returns the new states (one
        per block, unchanged for blocks not run) and the results: a list in block order,
        or with ``reduce`` their sum (:func:`sum_packed`). ``needs_x=False`` lets a source
        skip reading rows the function does not look at."""
        raise NotImplementedError

    def rows(self, idx: NDArray[np.intp]) -> Floats:
        """The prepared rows ``idx`` (any order, repeats allowed), C-contiguous."""
        raise NotImplementedError

    def all_weights(self) -> F8:
        """Every row's weight, in memory (ones when none were given)."""
        raise NotImplementedError

    def local_array(self) -> tuple[Floats, F8] | None:
        """The rows and weights as in-memory arrays, where the source holds them so."""
        return None

    # ---------------------------------------------------------------- shared
    @property
    def n_blocks(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def mean_variance(self) -> float:
        """Mean over features of the per-feature variance (scikit-learn's tol scale)."""
        return float(np.mean(self.var))

    def exact_algorithm(self, algorithm: str) -> str:
        """The exact algorithm that runs for the ``algorithm`` asked (a source that cannot
        run it says what runs instead)."""
        return algorithm

    def blas_inside(self, init: Any, gemm: bool) -> bool:
        """Whether kernels call BLAS from parallel regions (hold BLAS to one thread)."""
        return gemm or (isinstance(init, str) and init == "k-means||")

    def start_run(self) -> None:
        """Forget the per-row state of the last run (labels, bounds)."""
        self.states: list[Any] = [None] * self.n_blocks

    def assign(self, plan: Plan) -> tuple[F8, F8, float, int]:
        """One pass: (sums (k,d), weight sums (k,), inertia, labels changed); labels and
        bounds stay with the blocks. Without ``plan.accumulate`` the sums are zero and
        the weight sums are the weight of each cluster. Sums and weight sums are in held
        weights (see ``weight_scale``), the inertia in the caller's."""
        k, d = plan.centers.shape
        args = {"plan": plan, "worker": self.worker}
        self.states, total = self.map(assign_task, self.states, args, reduce=True)
        total = np.asarray(total, dtype=np.float64)
        if not total.flags.writeable:  # computed elsewhere: re-seeding writes into it
            total = total.copy()
        sums, wsums, inertia, changed = unpack(total, k, d)
        return sums, wsums, inertia * self.weight_scale, changed

    def farthest(
        self, centers: Floats, m: int
    ) -> tuple[NDArray[np.intp], F8, F8, NDArray[np.intp]]:
        """The ``m`` rows farthest from their center by the one tie rule
        (:func:`fastkmeans._assign.farthest_order`), rows of zero weight excluded:
        global rows, the rows in float64, their weights and labels."""
        args = {"centers": centers, "m": m, "worker": self.worker}
        self.states, parts = self.map(farthest_task, self.states, args)
        dist, rows, xs, ws, old = (np.concatenate([p[i] for p in parts]) for i in range(5))
        top = farthest_order(dist, rows, min(m, dist.shape[0]))
        top = top[dist[top] >= 0]
        if top.shape[0] and dist[top[0]] == 0:
            top = top[:0]  # every point sits on its center: nothing to gain (scikit-learn)
        return rows[top], xs[top], ws[top], old[top]

    def labels(self) -> NDArray[np.int64]:
        """The labels of the last pass, in row order; ends the run (:func:`labels_task`)."""
        self.states, parts = self.map(labels_task, self.states, {}, needs_x=False)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]
