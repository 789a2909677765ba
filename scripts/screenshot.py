"""Render fastkmeans figures in headless Chromium: the README image and the browser test.

    python scripts/screenshot.py              # docs/_static/demo.png from `fastkmeans demo`
    python scripts/screenshot.py --html fig.html --out fig.png    # any Plotly HTML to PNG

The page is opened from a local file and the demo HTML embeds plotly.js, so no network is
needed. White space under the figure is cropped. For the demo the script then checks that the
three cluster colours of ``fastkmeans.plot.PALETTE`` are on the picture, and exits non-zero
when they are not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parent.parent
DEMO_PNG = ROOT / "docs" / "_static" / "demo.png"

#: Flags for a quiet, offline, sandbox-free headless run (as root in a container).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # software WebGL for Plotly's scattergl traces
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$CHROMIUM``, ``/usr/bin/chromium`` or one on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run_chromium(html: Path, extra: list[str], timeout: float) -> subprocess.CompletedProcess:
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="fk-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra,
               html.resolve().as_uri()]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def screenshot(html: Path, png: Path, size: tuple[int, int] = (1000, 500),
               budget_ms: int = 5000, timeout: float = 60.0) -> Path:  # fmt: skip
    """Open ``html`` in headless Chromium, let it run ``budget_ms`` of virtual time, save PNG."""
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    proc = _run_chromium(
        html,
        [f"--screenshot={png.resolve()}", f"--window-size={size[0]},{size[1]}",
         f"--virtual-time-budget={budget_ms}"],
        timeout,
    )  # fmt: skip
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot (exit {proc.returncode}): "
                           f"{proc.stderr[-2000:]}")  # fmt: skip
    return png


def dump_dom(html: Path, budget_ms: int = 5000, timeout: float = 60.0) -> str:
    """The page's DOM after ``budget_ms`` of virtual time (what Plotly built), as HTML text."""
    proc = _run_chromium(html, ["--dump-dom", f"--virtual-time-budget={budget_ms}"], timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"Chromium failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


@njit(cache=True)
def _unfilter(raw, height, stride, bpp):  # pragma: no cover - compiled
    """IN raw (height*(stride+1),) u1 filtered scanlines; returns (height, stride) u1."""
    out = np.zeros((height, stride), dtype=np.uint8)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        base = y * (stride + 1) + 1
        for x in range(stride):
            a = np.int32(out[y, x - bpp]) if x >= bpp else 0
            b = np.int32(out[y - 1, x]) if y > 0 else 0
            c = np.int32(out[y - 1, x - bpp]) if (x >= bpp and y > 0) else 0
            v = np.int32(raw[base + x])
            if ftype == 1:
                v += a
            elif ftype == 2:
                v += b
            elif ftype == 3:
                v += (a + b) // 2
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                v += a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
            out[y, x] = v & 0xFF
    return out


def read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) to (h, w, 3)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    if header is None:
        raise ValueError(f"{path} has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace "
                         f"{interlace})")  # fmt: skip
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    pixels = _unfilter(raw, height, width * channels, channels)
    return pixels.reshape(height, width, channels)[:, :, :3]


def write_png(path: Path, img: np.ndarray) -> Path:
    """Encode an (h, w, 3) uint8 image as an RGB PNG (no filtering, zlib level 9)."""
    h, w, _ = img.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * 3)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                           + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
                           + chunk(b"IEND", b""))  # fmt: skip
    return Path(path)


def crop_blank_bottom(img: np.ndarray, margin: int = 16) -> np.ndarray:
    """Drop the white rows under the figure (Plotly sizes itself before the window settles)."""
    inked = np.flatnonzero((img < 250).any(axis=(1, 2)))
    return img if inked.size == 0 else img[: min(img.shape[0], inked[-1] + 1 + margin)]


def colour_counts(img: np.ndarray, colours: tuple[str, ...], opacity: float = 0.8,
                  tolerance: float = 24.0) -> dict[str, int]:  # fmt: skip
    """Pixels of ``img`` near each ``#rrggbb`` colour, drawn alone or at ``opacity`` on white."""
    px = img.reshape(-1, 3).astype(np.float64)
    counts = {}
    for hexa in colours:
        rgb = np.array([int(hexa[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
        near = np.zeros(px.shape[0], dtype=bool)
        for target in (rgb, opacity * rgb + (1 - opacity) * 255.0):
            near |= np.linalg.norm(px - target, axis=1) <= tolerance
        counts[hexa] = int(near.sum())
    return counts


def demo_html(out: Path, seed: int = 42) -> Path:
    """Write the tutorial figure with the real command line: ``python -m fastkmeans demo``."""
    subprocess.run([sys.executable, "-m", "fastkmeans", "demo", "--out", str(out),
                    "--seed", str(seed)], check=True, capture_output=True, text=True)  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="Plotly HTML file (default: run the demo)")
    parser.add_argument("--out", type=Path, default=DEMO_PNG, help="PNG to write")
    parser.add_argument("--size", default="900x760", help="window WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    from fastkmeans.plot import PALETTE

    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="fk-shot-") as tmp:
        html = args.html or demo_html(Path(tmp) / "kmeans.html")
        screenshot(html, args.out, (width, height))
    img = crop_blank_bottom(read_png(args.out))
    write_png(args.out, img)
    counts = colour_counts(img, PALETTE[:3])
    print(f"wrote {args.out} ({img.shape[1]}x{img.shape[0]}); cluster colour pixels: {counts}")
    if args.html is None and min(counts.values()) < 200:  # the demo has three clusters
        print("error: the cluster colours are missing: the plot did not draw", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
