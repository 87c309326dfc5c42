"""CSV tables: a header row and rows of fields; numeric feature columns; a classification table.

The readers behind ``nncrn train --csv``, ``nncrn simulate --inputs`` and the labels files,
public so a notebook reads a table exactly as the command line does. Messages name the
file, the column, the data row and the line.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nncrn._errors import FormatError, InputError
from nncrn.data._datasets import Dataset

__all__ = ["load_csv", "numeric_columns", "read_table"]


def read_table(path: str | os.PathLike) -> tuple[list[str], list[list[str]]]:
    """Read a CSV file with a header row; returns (header, rows of strings)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {str(path)!r} does not exist")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                rows = [r for r in reader if any(cell.strip() for cell in r)]
            except csv.Error as exc:
                raise FormatError(_csv_problem(path, reader.line_num, exc)) from None
    except UnicodeDecodeError as exc:
        head = path.read_bytes()[:2]
        kind = " (it starts with a UTF-16 byte-order mark)" if head in (b"\xff\xfe", b"\xfe\xff") else ""
        raise FormatError(
            f"CSV file {str(path)!r} is not UTF-8 text{kind}: byte {exc.object[exc.start]:#04x} at "
            f"offset {exc.start} does not decode; save it as UTF-8 CSV (e.g. \"CSV UTF-8\" in a "
            "spreadsheet, or `iconv -t UTF-8`)"
        ) from None
    if not rows:
        raise FormatError(f"CSV file {str(path)!r} is empty; it needs a header row and data rows")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    if len(header) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            if sep in header[0] and all(sep in r[0] for r in body[:5]):
                raise FormatError(
                    f"{path.name}: the header {header[0]!r} is one column holding {name}: the "
                    f"file seems to be separated by {name}, and nncrn reads comma-separated "
                    "files. Save it as CSV with commas (a spreadsheet's \"CSV\" format, or "
                    "`tr ';' ','` when no field holds a comma)"
                )
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise FormatError(
                f"{path.name}: data row {i + 1} (line {i + 2}) has {len(r)} fields but the header "
                f"has {len(header)}"
            )
    if not body:
        raise FormatError(f"CSV file {str(path)!r} has a header but no data rows")
    return header, body


def _csv_problem(path: Path, line: int, exc: csv.Error) -> str:
    """The message for a ``csv.Error`` at ``line`` of ``path``, with the likely cause."""
    text = str(exc)
    if "field larger than field limit" in text:
        text = (
            f"a field is longer than {csv.field_size_limit():,} characters, usually a double "
            'quote (") without its closing quote, which runs the field on to the end of the file'
        )
        fix = "close or remove the stray quote"
    elif "NUL" in text:
        fix = "it looks like a binary file, not CSV text"
    else:
        fix = "check the quoting of that line"
    return f"CSV file {str(path)!r} cannot be parsed at line {line}: {text}; {fix}"


def numeric_columns(
    path: str | os.PathLike, header: Sequence[str], rows: Sequence[Sequence[str]], columns: Sequence[str]
) -> np.ndarray:
    """Parse ``columns`` of a table as floats; errors name the column, row and value."""
    name = Path(path).name
    out = np.empty((len(rows), len(columns)))
    for j, col in enumerate(columns):
        k = header.index(col)
        for i, r in enumerate(rows):
            cell = r[k].strip()
            if cell == "" or cell.lower() in ("na", "nan", "null", "none"):
                raise InputError(
                    f"{name}: column {col!r} has a missing value in data row {i + 1} (line {i + 2}); "
                    "impute it or drop the row"
                )
            try:
                v = float(cell)
            except ValueError:
                raise InputError(
                    f"{name}: column {col!r} has non-numeric value {cell!r} in data row {i + 1} "
                    f"(line {i + 2}); features must be numbers (encode categories as numbers)"
                ) from None
            if not math.isfinite(v):
                raise InputError(
                    f"{name}: column {col!r} has non-finite value {cell!r} in data row {i + 1}"
                )
            out[i, j] = v
    return out


def load_csv(path: str | os.PathLike, target: str) -> Dataset:
    """A classification table: numeric feature columns and a categorical ``target`` column.

    Classes are the distinct labels in sorted order; ``Dataset.y`` holds their indices.
    Every other column is a feature and must be numeric in every row.
    """
    header, rows = read_table(path)
    if target not in header:
        raise InputError(f"{Path(path).name}: no column named {target!r}; columns are {header}")
    features = [h for h in header if h != target]
    if not features:
        raise InputError(f"{Path(path).name}: no feature columns besides the target {target!r}")
    X = numeric_columns(path, header, rows, features)
    k = header.index(target)
    labels = [r[k].strip() for r in rows]
    for i, lab in enumerate(labels):
        if lab == "":
            raise InputError(
                f"{Path(path).name}: target column {target!r} is empty in data row {i + 1} "
                f"(line {i + 2}); every row needs a class label"
            )
    classes = sorted(set(labels))
    _refuse_continuous(Path(path).name, target, labels, classes)
    if len(classes) < 2:
        raise InputError(
            f"{Path(path).name}: target column {target!r} has a single class {classes}; "
            "classification needs at least two"
        )
    index = {c: i for i, c in enumerate(classes)}
    return Dataset(Path(path).stem, X, np.array([index[v] for v in labels]), classes, features)


def _refuse_continuous(name: str, target: str, labels: list[str], classes: list[str]) -> None:
    """A numeric target with many distinct values, some of them seen once, is a regression
    target, not classes (a classifier's split would fail on the single-row "classes")."""
    if len(classes) <= 20:
        return
    counts = Counter(labels)
    if min(counts.values()) > 1 and len(classes) < 0.5 * len(labels):
        return
    try:
        values = [float(v) for v in classes]
    except ValueError:
        return
    if not all(np.isfinite(values)):
        return
    raise InputError(
        f"{name}: target column {target!r} holds {len(classes)} distinct numbers in "
        f"{len(labels)} rows (from {min(values):g} to {max(values):g}): that is a regression "
        "target, and nncrn train and demo train classifiers (one class per distinct value). "
        "For regression use nncrn.estimator.CRNRegressor in Python (it trains an MLP "
        "regressor and compiles it), or compile a scikit-learn MLPRegressor with "
        "nncrn.compile_network; to classify, bin the target into a few labels first"
    )
