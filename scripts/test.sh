#!/usr/bin/env bash
# Set up a virtual environment with every extra and run the whole test suite:
# unit and property tests, scikit-learn checks, the Dask LocalCluster tests, the notebooks,
# the docs build and the browser test. Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
as_root_with_apt() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; }
if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    rm -rf .venv
    if ! "$PYTHON" -m venv .venv; then
        # Debian's own python3 needs python3-venv for ensurepip.
        as_root_with_apt || { echo "error: $PYTHON -m venv failed; install python3-venv" >&2; exit 1; }
        rm -rf .venv
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$PYTHON" -m venv .venv
    fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev,sklearn,dask,docs]"

# Headless Chromium for the browser test (Debian packages; needs root, as on CI).
if ! command -v chromium >/dev/null 2>&1 && as_root_with_apt; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "warning: could not install chromium; the browser test will say why it skipped"
fi

# Compiled kernels are cached once and shared by every test process.
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.numba_cache}"
export PYTHONHASHSEED=0

.venv/bin/python -m ruff check fastkmeans tests benchmarks scripts docs
# Every kernel once, before the tests (tests/test_compile.py checks the command is then quick).
.venv/bin/python -m fastkmeans compile
.venv/bin/python -m pytest "$@"
