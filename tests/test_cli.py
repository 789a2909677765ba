"""The command line, run as a user would: in a new process."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans.cli import main


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "fastkmeans", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_demo_writes_the_figure_and_one_summary_line(tmp_path):
    out = tmp_path / "fig.html"
    proc = _run("demo", "--out", str(out), "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("n=750 k=3 inertia=") and "iterations=" in lines[0]
    assert "seconds=" in lines[0]
    html = out.read_text()
    assert "plotly" in html.lower() and "cluster 2" in html and "centroids" in html


def test_demo_default_output_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    html = (tmp_path / "kmeans.html").read_text()
    # plotly.js is one shared file next to the figure, not a 4.6 MB copy inside it.
    assert 'src="plotly.min.js"' in html and len(html) < 1_000_000
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000
    out = capsys.readouterr().out
    assert "out=kmeans.html" in out and " fit=" in out and " compile=" in out


def test_fit_csv_with_header_and_npy(tmp_path, capsys):
    X, _ = fk.datasets.make_blobs(300, 3, 4, seed=0)
    csv = tmp_path / "data.csv"
    np.savetxt(csv, X, delimiter=",", header="a,b,c", comments="")
    npy = tmp_path / "data.npy"
    np.save(npy, X)
    labels_csv = tmp_path / "l1.csv"
    labels_npy = tmp_path / "l2.csv"
    assert main(["fit", str(csv), "-k", "4", "--seed", "1", "--out", str(labels_csv)]) == 0
    assert (
        main(
            [
                "fit",
                str(npy),
                "-k",
                "4",
                "--seed",
                "1",
                "--out",
                str(labels_npy),
                "--plot",
                str(tmp_path / "f.html"),
            ]
        )
        == 0
    )
    a = np.loadtxt(labels_csv, skiprows=1)
    b = np.loadtxt(labels_npy, skiprows=1)
    expected = fk.KMeansParams(4, seed=1).fit(X).labels
    np.testing.assert_array_equal(a, expected)
    np.testing.assert_array_equal(b, expected)
    assert (tmp_path / "f.html").exists()
    assert capsys.readouterr().out.count("n=300 k=4") == 2


@pytest.mark.parametrize(
    "args,message",
    [
        (["fit", "missing.npy", "-k", "3"], "no such file"),
        (["fit", "data.txt", "-k", "3"], "unsupported file type"),
        (["fit", "bad.csv", "-k", "3"], "not a CSV file of numbers"),
        (["fit", "nan.csv", "-k", "2"], "NaN"),
        (["fit", "small.csv", "-k", "9"], "should be >= n_clusters=9"),
        (["fit", "small.csv", "-k", "0"], "expected an integer >= 1"),
        (["demo", "--seed", "x"], "expected an integer"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, args, message):
    (tmp_path / "data.txt").write_text("1,2\n")
    (tmp_path / "bad.csv").write_text("a,b\n1,x\n")
    (tmp_path / "nan.csv").write_text("1,2\nnan,3\n4,5\n")
    (tmp_path / "small.csv").write_text("1,2\n3,4\n")
    proc = _run(*args, cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_help_lists_the_commands():
    proc = _run("--help")
    assert proc.returncode == 0
    assert "demo" in proc.stdout and "fit" in proc.stdout
