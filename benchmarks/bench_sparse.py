"""Sparse text: TF-IDF of docstring paragraphs, against scikit-learn's sparse KMeans.

The corpus is real and on the machine: :func:`fastkmeans.datasets.load_docstrings` with
``unit="paragraph"`` (about 120,000 paragraphs with the test extras installed; the row
count is in the table), vectorised by scikit-learn's ``TfidfVectorizer`` (sublinear tf,
English stop words, terms in 5 to 50% of the documents; float64, L2-normalised rows).
For k = 20 and k = 256:

* **fixed**: the same initial centers (k rows drawn with a fixed seed), exactly 20 Lloyd
  iterations (``tol=0``) for both; milliseconds per iteration, median of repeats;
* **converge**: the defaults (greedy k-means++ seeding, tol = 1e-4, one init), mean over
  seeds; seconds including the seeding, and the inertia of each relative to the lower;
* **peak MB**: the largest NumPy allocation footprint during one converged fit
  (``tracemalloc``; the CSR matrix itself, 17 MB, is allocated before and not counted;
  buffers that either library allocates outside NumPy are not seen).

Run ``python -m benchmarks.bench_sparse`` or with ``--quick`` (20,000 paragraphs).
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import numpy as np

try:
    from .common import section_main
except ImportError:  # run as a script
    from common import section_main  # type: ignore[no-redef]

ITERATIONS = 20


def corpus(quick: bool) -> Any:
    """The TF-IDF matrix (CSR, float64) of the docstring paragraphs."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from fastkmeans.datasets import load_docstrings

    texts, _ = load_docstrings(unit="paragraph")
    if quick:
        texts = texts[:: max(1, len(texts) // 20_000)]
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=5, max_df=0.5, stop_words="english")
    return vectorizer.fit_transform(texts)


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _peak_mb(fn: Any) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def fixed(X: Any, k: int, repeats: int) -> dict[str, Any]:
    """Milliseconds per Lloyd iteration from the same initial centers."""
    from sklearn.cluster import KMeans

    import fastkmeans as fk

    rng = np.random.default_rng(0)
    init = X[rng.choice(X.shape[0], k, replace=False)].toarray()
    ours = fk.KMeansParams(k, init=init, max_iter=ITERATIONS, tol=0.0, algorithm="lloyd")
    ref = KMeans(k, init=init, n_init=1, max_iter=ITERATIONS, tol=0.0, algorithm="lloyd")
    ours.replace(max_iter=2).fit(X)  # compile
    t_ours, t_ref = [], []
    for _ in range(repeats):  # alternate, so that both see the same machine
        t, model = _timed(lambda: ours.fit(X))
        t_ours.append(t / model.n_iter)
        t, fitted = _timed(lambda: ref.fit(X))
        t_ref.append(t / fitted.n_iter_)
    a, b = float(np.median(t_ours)) * 1e3, float(np.median(t_ref)) * 1e3
    return {
        "ms / iter fastkmeans": a,
        "ms / iter sklearn": b,
        "fixed speed-up": b / a,
        "same labels": bool(np.array_equal(model.labels, fitted.labels_)),
    }


def converge(X: Any, k: int, seeds: tuple[int, ...]) -> dict[str, Any]:
    """Seconds to converge at the defaults (k-means++, tol 1e-4), seeding included."""
    from sklearn.cluster import KMeans

    import fastkmeans as fk

    fk.KMeansParams(k, seed=0, max_iter=2).fit(X[:2000])  # compile
    rows = []
    for seed in seeds:
        ours = fk.KMeansParams(k, seed=seed)
        ref = KMeans(k, n_init=1, random_state=seed)
        t_ours, model = _timed(lambda: ours.fit(X))  # noqa: B023 (called at once)
        t_seed, _ = _timed(lambda: ours.replace(max_iter=1).fit(X))  # noqa: B023
        t_ref, fitted = _timed(lambda: ref.fit(X))  # noqa: B023
        rows.append((t_ours, t_ref, model.inertia, fitted.inertia_, model.n_iter,
                     fitted.n_iter_, t_seed))  # fmt: skip
    t_ours, t_ref, i_ours, i_ref, n_ours, n_ref, t_seed = (np.mean(c) for c in zip(*rows))
    best = min(i_ours, i_ref)
    peak_ours = _peak_mb(lambda: fk.KMeansParams(k, seed=seeds[0]).fit(X))
    peak_ref = _peak_mb(lambda: KMeans(k, n_init=1, random_state=seeds[0]).fit(X))
    return {
        "s fastkmeans": float(t_ours),
        "of which seeding + 1 iter": float(t_seed),
        "s sklearn": float(t_ref),
        "converge speed-up": float(t_ref / t_ours),
        "iters fastkmeans": float(n_ours),
        "iters sklearn": float(n_ref),
        "inertia fastkmeans": f"+{100 * (i_ours / best - 1):.2f}%",
        "inertia sklearn": f"+{100 * (i_ref / best - 1):.2f}%",
        "peak MB fastkmeans": peak_ours,
        "peak MB sklearn": peak_ref,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    """One row per k: fixed work, convergence and peak memory.

    Returns
    -------
    list of dict
    """
    X = corpus(quick)
    rows = []
    for k in (20, 64) if quick else (20, 256):
        row: dict[str, Any] = {"n": X.shape[0], "terms": X.shape[1], "nnz": X.nnz, "k": k}
        row.update(fixed(X, k, repeats=1 if quick else 3))
        row.update(converge(X, k, (0,) if quick else (0, 1, 2)))
        print(row, flush=True)
        rows.append(row)
    return rows


def main() -> None:
    section_main(run, __doc__)


if __name__ == "__main__":
    main()
