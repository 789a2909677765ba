"""Numba flags and chunk constants shared by every kernel.

Kernels import their decorator vocabulary from here so that a test can check that every
kernel uses the same restricted ``fastmath`` set and the on-disk cache.
"""

from __future__ import annotations

import os

#: Compiled kernels are cached on disk so that a second process does not recompile.
#: Set ``FASTKMEANS_NO_CACHE=1`` to switch it off; ``NUMBA_CACHE_DIR`` moves the cache
#: (use it for read-only installs).
NUMBA_CACHE: bool = os.environ.get("FASTKMEANS_NO_CACHE", "0") != "1"

#: A restricted fast-math set: reassociation and contraction let LLVM vectorise sums,
#: but no ``nnan``/``ninf`` because kernels use ``inf`` sentinels.
FASTMATH: set[str] = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: Reduction chunks hold at least this many rows ...
MIN_CHUNK_ROWS: int = 2048
#: ... and there are at most this many of them. Chunk boundaries depend on n only.
MAX_CHUNKS: int = 64
#: Rows per distance tile in the GEMM-style kernels.
TILE_ROWS: int = 256
#: From this many features on, the GEMM-style kernel keeps tiles row-major (the argmin
#: runs along each row); below it, tiles are transposed so that the argmin runs across
#: rows in SIMD. ``python -m benchmarks.tuning`` measured transposing (one run) at 0.5-1.0x
#: of one read of the data up to d = 16, 1.56x at d = 32 and 5.7x at d = 128, where the GEMM
#: dominates anyway.
ROW_MAJOR_MIN_FEATURES: int = 64
#: k-means++ weighs its candidates on transposed tiles below this many features, row by
#: row from it on. ``python -m benchmarks.tuning`` measured tiles against rows (one run)
#: at 0.28x the time at d = 2 and 0.66x at d = 8, but 1.26x at d = 16 and 1.51x at d = 32,
#: where transposing the rows costs more than it saves.
SEED_TILES_BELOW_FEATURES: int = 16
#: From this many features on, the row-by-row k-means++ kernel weighs its candidates four
#: at a time (one load of each feature for four sums). ``python -m benchmarks.tuning``
#: measured four at a time against one (one run, k = 256) at 0.98x the time at d = 32 and
#: 1.13x at d = 48, then 0.91x at d = 64 and 0.83x at d = 128.
FOUR_CANDIDATES_FROM_FEATURES: int = 64
#: Distances use the GEMM-style kernel from this many features on, when features x
#: clusters also reach ``GEMM_MIN_WORK``; direct differences below. ``python -m
#: benchmarks.tuning --only gemm`` measured a Lloyd pass (one run, Intel Xeon with AVX-512,
#: 2 threads): direct differences 0.73-1.05x the GEMM form's time at d = 2-4 for every
#: k from 4 to 128 (0.92x at 1,000,000 x 2, k = 8); the GEMM form 1.07-1.16x faster from
#: d = 6-8 with k >= 16, 1.3-2.2x from d = 8-24 with k >= 64.
GEMM_MIN_FEATURES: int = 6
GEMM_MIN_WORK: int = 96
#: A k-means|| candidate pass (``update_nearest``) uses the GEMM form from this many
#: features x candidates on: the same command measured it 1.4-13x faster than the direct
#: form at every shape it tried, from d = 2 with 8 candidates (1.6x) to d = 6 with 512.
CANDIDATES_GEMM_MIN_WORK: int = 16
#: Problems with fewer than this many n*k*d operations run on the serial kernels.
SERIAL_MAX_WORK: int = 200_000
#: Per-feature mean and variance run on the calling thread up to this many values of X
#: (two passes over 8 MB of float64 take a few milliseconds): their parallel kernel, whose
#: first compilation costs seconds, only for larger data. Both sum in the same chunks.
STATS_SERIAL_MAX_VALUES: int = 2**20
#: ``algorithm="auto"`` picks Hamerly from this many clusters on, whatever the number of
#: features. Re-measured with the incremental sums (``python -m benchmarks --only
#: algorithms`` and the whole benchmark: three runs, Intel Xeon with AVX-512, 2 threads,
#: from the same start): Hamerly is 1.8-1.9x faster than Lloyd at k = 64, 1.7-2.0x at
#: k = 256 and 1.1-1.4x at k = 1024; at k = 8 it is 1.8-2.2x slower and at k = 32 8-9%
#: slower: runs are short there, and its bounds do not pay for the scan that sets them.
HAMERLY_MIN_CLUSTERS: int = 64
#: ... and Yinyang from this many: 7-14% faster than Hamerly at k = 1024 in those three
#: runs, between 29% faster and 10% slower at k = 256, 11-21% slower at k = 64 (earlier,
#: on an AMD EPYC: 0-11% faster at k = 1024 in seven runs).
YINYANG_MIN_CLUSTERS: int = 1024
#: Yinyang's group bounds (8 bytes per row and group) are capped at this many bytes; its
#: number of groups is k / 10 below the cap.
YINYANG_MAX_BYTES: int = 64 * 2**20
#: ``init="auto"`` seeds with k-means|| from this many clusters on, greedy k-means++ below.
#: Measured (docs/benchmarks.md, "Convergence", both seedings in the same run, Intel Xeon
#: with AVX-512, 2 threads): with k-means|| the whole fit took 0.57x the time at k = 64
#: (500,000 x 16; 0.68x in float64), 0.46x at k = 256 and 0.45x at k = 1,024, with final
#: inertia within 0.8% either way (+0.2%, +0.8%, -0.5%); at k = 8 and 32 it was 2.9x and
#: 1.3x slower (its rounds cost more than k greedy steps).
PARALLEL_INIT_MIN_CLUSTERS: int = 64
#: Hamerly and Yinyang run Lloyd's kernel until at most this fraction of labels changes
#: in an iteration, then set their bounds: early iterations move most points anyway.
HAMERLY_SWITCH: float = 0.05
#: Hamerly and Yinyang keep their cluster sums up to date by the points that move (the
#: others are not read) and recompute them from scratch every this many bounded passes
#: (and on the first and the final one), so that float64 drift stays far below 1e-12
#: relative (tests/test_incremental.py measures it over 60 passes without a refresh).
SUMS_REFRESH_EVERY: int = 20


def use_gemm_candidates(n_features: int, n_candidates: int) -> bool:
    """Whether a k-means|| pass finds each row's nearest new candidate through the
    GEMM-style kernel (its direct form goes row by row)."""
    return n_features * n_candidates >= CANDIDATES_GEMM_MIN_WORK


def use_gemm(n_features: int, n_clusters: int) -> bool:
    """Whether distances to ``n_clusters`` centers in ``n_features`` dimensions go through
    the GEMM-style kernel rather than direct differences."""
    return n_features >= GEMM_MIN_FEATURES and n_features * n_clusters >= GEMM_MIN_WORK
