"""A small two-class task written as the CSV files the CLI reads (shared by CLI tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_task(folder: Path, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Write ``train.csv`` (X0, X1, label) and ``X.csv`` (X0, X1); return ``X, y``.

    ``X`` is uniform on the unit square (seed 0) and ``y = [x0 > x1]``.
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 2))
    y = (x[:, 0] > x[:, 1]).astype(int)
    rows = "\n".join(f"{a},{b},{c}" for (a, b), c in zip(x, y, strict=True))
    (folder / "train.csv").write_text("X0,X1,label\n" + rows + "\n")
    (folder / "X.csv").write_text("X0,X1\n" + "\n".join(f"{a},{b}" for a, b in x) + "\n")
    return x, y
