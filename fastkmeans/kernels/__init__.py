"""Numba kernels: arrays and scalars in, arrays out; no validation, no Python objects.

Every kernel takes C-contiguous float32 or float64 data (so it compiles at most twice),
float64 sample weights and ``intp`` labels, and reduces over fixed row chunks whose
boundaries depend on the number of rows only (see :func:`fastkmeans._assign.chunk_bounds`),
so that results are bitwise identical for any thread count.
"""
