"""File formats the CLI reads and writes: CSV tables, the neutral MLP model file, atomic writes."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import FormatError, InputError
from nncrn.network import ReactionNetwork, require_readout

MODEL_FORMAT = "nncrn.mlp"
MODEL_VERSION = 1


def check_output_dir(path: str | os.PathLike, *, example: str | None = None) -> Path:
    """``path`` as a Path if its directory exists; else an ``OSError`` naming the directory.

    Commands call it before their work, so a typo in ``-o`` fails fast and the message names
    the directory, not a temporary file next to the output. With ``example`` (a file name to
    suggest), a ``path`` that is a directory, or ends with a separator, is refused as well.
    """
    given = os.fspath(path)
    path = Path(path)
    if example is not None and (given.endswith(("/", os.sep)) or path.is_dir()):
        raise IsADirectoryError(
            f"output {given!r} is a directory; give a file name, such as "
            f"{str(path / example)!r}"
        )
    parent = path.parent
    if not parent.exists():
        raise FileNotFoundError(
            f"output directory {str(parent)!r} does not exist (for {str(path)!r}); "
            "create it first or choose another path"
        )
    if not parent.is_dir():
        raise NotADirectoryError(f"output {given!r}: {str(parent)!r} is not a directory")
    return path


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds.

    A failure anywhere in the block leaves no partial output file behind.
    """
    path = check_output_dir(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    os.close(fd)
    # mkstemp creates 0600; give the file the mode a plain open() would (umask applied)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def read_table(path: str | os.PathLike) -> tuple[list[str], list[list[str]]]:
    """Read a CSV file with a header row; returns (header, rows of strings)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {str(path)!r} does not exist")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if any(cell.strip() for cell in r)]
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
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise FormatError(
                f"{path.name}: data row {i + 1} (line {i + 2}) has {len(r)} fields but the header "
                f"has {len(header)}"
            )
    if not body:
        raise FormatError(f"CSV file {str(path)!r} has a header but no data rows")
    return header, body


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


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: np.ndarray | list) -> None:
    def writer(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow([repr(float(v)) if isinstance(v, float | np.floating) else v for v in r])

    write_atomic(path, writer)


def save_model(path: str | os.PathLike, model: Any, meta: dict) -> None:
    """Save a torch ``nn.Sequential`` MLP as versioned JSON (exact float round trip, no pickle)."""
    import torch

    layers = []
    for module in model:
        if isinstance(module, torch.nn.Linear):
            layers.append({
                "type": "linear",
                "weight": module.weight.detach().double().tolist(),
                "bias": module.bias.detach().double().tolist(),
            })
        else:
            entry: dict[str, Any] = {"type": type(module).__name__}
            if hasattr(module, "eps"):
                entry["eps"] = float(module.eps)
            layers.append(entry)
    doc = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "layers": layers, **meta}
    text = json.dumps(doc)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


_LAYER_TYPES = ("linear", "SmoothReLU", "ReLU", "Identity")
_RESAVE = "fix the file or re-save the model with `nncrn train`"


def _eps_field(value: object, where: str) -> float:
    """``value`` as an eps (a finite number >= 0), else a :class:`FormatError` naming ``where``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:  # type: ignore[arg-type]
        raise FormatError(
            f"{where} is {value!r}; it must be a finite number >= 0 (the SmoothReLU eps the "
            f"model was trained with, e.g. 0.001) — {_RESAVE}"
        )
    return float(value)  # type: ignore[arg-type]


def _array_field(layer: dict, key: str, ndim: int, where: str) -> np.ndarray:
    """``layer[key]`` as a float64 array of rank ``ndim``, else a :class:`FormatError`."""
    what = "a list of rows of numbers" if ndim == 2 else "a list of numbers"
    if key not in layer:
        raise FormatError(f'{where} has no "{key}" field; a linear layer needs {what} — {_RESAVE}')
    value = layer[key]
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != ndim or isinstance(value, str):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise FormatError(f'{where}: "{key}" is {shown}; it must be {what} — {_RESAVE}')
    return arr


def load_model(path: str | os.PathLike) -> tuple[Any, dict]:
    """Inverse of :func:`save_model`: returns ``(nn.Sequential, metadata)``.

    Every field the model needs is checked here, so a hand-edited or damaged file is a
    :class:`FormatError` naming the layer and field, not a ``KeyError`` deep inside torch.
    """
    import torch

    from nncrn.nn import SmoothReLU

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(
            f"model file {path.name!r} is not JSON ({exc}); `nncrn compile` reads the model.json "
            "written by `nncrn train`/`nncrn demo`"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise FormatError(
            f"model file {path.name!r} is not an nncrn model (expected \"format\": {MODEL_FORMAT!r}); "
            "use the model.json written by `nncrn train`"
        )
    if doc.get("version") != MODEL_VERSION:
        raise FormatError(
            f"model file {path.name!r} has version {doc.get('version')!r}; this nncrn reads "
            f"version {MODEL_VERSION}"
        )
    name = f"model file {path.name!r}"
    if "eps" in doc:
        doc["eps"] = _eps_field(doc["eps"], f'{name}: top-level "eps"')
    rng = doc.get("input_range")
    if rng is not None and not (
        isinstance(rng, list) and all(isinstance(r, list) and len(r) == 2 for r in rng)
    ):
        raise FormatError(
            f'{name}: "input_range" is {rng!r}; it must be null or a list of [low, high] '
            f"pairs, one per feature — {_RESAVE}"
        )
    layers = doc.get("layers", [])
    if not isinstance(layers, list):
        raise FormatError(f'{name}: "layers" must be a list of layer objects — {_RESAVE}')
    modules = []
    for i, layer in enumerate(layers):
        kind = layer.get("type") if isinstance(layer, dict) else None
        where = f"{name} layer {i} ({kind})"
        if kind == "linear":
            w = _array_field(layer, "weight", 2, where)
            b = _array_field(layer, "bias", 1, where)
            if b.shape != (w.shape[0],):
                raise FormatError(
                    f"{where}: weight shape {w.shape} (outputs, inputs) needs a bias of shape "
                    f"({w.shape[0]},), got {b.shape} — {_RESAVE}"
                )
            lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            modules.append(lin)
        elif kind == "SmoothReLU":
            if "eps" not in layer:
                raise FormatError(
                    f'{where} has no "eps" field; a SmoothReLU layer records the eps it was '
                    f'trained with, e.g. {{"type": "SmoothReLU", "eps": 0.001}} — {_RESAVE}'
                )
            modules.append(SmoothReLU(_eps_field(layer["eps"], f'{where}: "eps"')))
        elif kind == "ReLU":
            modules.append(torch.nn.ReLU())
        elif kind == "Identity":
            modules.append(torch.nn.Identity())
        else:
            raise FormatError(
                f"model file layer {i} has unsupported type {kind!r}; layer types are "
                f"{', '.join(_LAYER_TYPES)} — {_RESAVE}"
            )
    meta = {k: v for k, v in doc.items() if k not in ("format", "version", "layers")}
    return torch.nn.Sequential(*modules), meta


def input_matrix(network: ReactionNetwork, path: Path) -> np.ndarray:
    """Features of ``path`` as an array, columns named by the network's inputs or feature names."""
    header, rows = read_table(path)
    features = list(network.metadata.get("feature_names", ()))
    for names in (list(network.inputs), features):
        if names and set(names) <= set(header):
            return numeric_columns(path, header, rows, names)
    raise InputError(
        f"{path.name}: the header must name the network's {len(network.inputs)} inputs "
        f"{list(network.inputs)[:6]}{'...' if len(network.inputs) > 6 else ''}"
        + (f" or its features {features[:4]}..." if features else "")
        + f"; found {header[:6]}"
    )


def class_labels(path: Path, header: list[str], rows: list[list[str]], target: str,
                 network: ReactionNetwork) -> np.ndarray:  # fmt: skip
    """Class indices from column ``target``: class names from the network's metadata or indices."""
    if target not in header:
        raise InputError(
            f"{path.name}: no column named {target!r} (--target); columns are {header}"
        )
    require_readout(network, path.name)
    k = header.index(target)
    classes = [str(c) for c in network.metadata.get("classes") or ()]
    out = []
    for i, r in enumerate(rows):
        cell = r[k].strip()
        if cell in classes:
            out.append(classes.index(cell))
            continue
        try:
            value = float(cell)
        except ValueError:
            value = float("nan")
        if not value.is_integer() or not 0 <= value < len(network.outputs):
            raise InputError(
                f"{path.name}: label {cell!r} in data row {i + 1} (line {i + 2}) is neither a class "
                f"name {classes[:6]} nor a class index in [0, {len(network.outputs)}) (readouts "
                f"{list(network.outputs)[:6]})"
            )
        out.append(int(value))
    return np.array(out, dtype=np.int64)
