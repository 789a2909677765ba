"""The tutorial figure in a real browser: ``fastkmeans demo`` -> headless Chromium -> pixels.

Skipped only where Chromium is not installed (``scripts/test.sh`` installs Debian's package
when it runs as root).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_screenshot_module():
    spec = importlib.util.spec_from_file_location(
        "fk_screenshot", ROOT / "scripts" / "screenshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


shot = _load_screenshot_module()
pytestmark = pytest.mark.skipif(
    shot.find_chromium() is None,
    reason="Chromium is not installed (scripts/test.sh installs Debian's chromium as root)",
)


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shot.demo_html(tmp_path_factory.mktemp("browser") / "kmeans.html", seed=42)


def test_demo_draws_every_cluster_in_chromium(demo_html: Path, tmp_path: Path) -> None:
    from fastkmeans.plot import PALETTE

    png = shot.screenshot(demo_html, tmp_path / "demo.png", size=(900, 700))
    img = shot.read_png(png)
    assert img.shape[:2] == (700, 900)
    counts = shot.colour_counts(img, PALETTE[:4])
    # The three clusters are drawn in the first three palette colours, in hundreds of pixels
    # each; the fourth colour is not used by a k = 3 figure (guards against a check that
    # passes on any picture).
    assert all(counts[c] > 500 for c in PALETTE[:3]), counts
    assert counts[PALETTE[3]] < 50, counts
    # Black centroid crosses.
    assert int((img.max(axis=2) < 40).sum()) > 100


def test_demo_dom_has_plotly_layers(demo_html: Path) -> None:
    dom = shot.dump_dom(demo_html)
    assert 'class="plot-container plotly"' in dom
    assert "gl-canvas" in dom  # the WebGL layer of the Scattergl traces
    legend = re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom)
    assert legend == ["cluster 0", "cluster 1", "cluster 2", "centroids"]


def test_png_round_trip(tmp_path: Path) -> None:
    import numpy as np

    img = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    assert np.array_equal(shot.read_png(shot.write_png(tmp_path / "x.png", img)), img)
