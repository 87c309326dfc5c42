"""File formats the CLI reads and writes: CSV tables, the neutral MLP model file, atomic writes."""

from __future__ import annotations

import csv
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nncrn._errors import FormatError, InputError
from nncrn.data import numeric_columns, read_table
from nncrn.network import ReactionNetwork, require_readout
from nncrn.network._json import atomic_path as _atomic_path


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
    if path.is_symlink():  # the link's target is what gets written
        parent = Path(os.path.realpath(path)).parent
        given = f"{given} (a link to {os.path.realpath(path)!r})"
    if not parent.exists():
        raise FileNotFoundError(
            f"output directory {str(parent)!r} does not exist (for {given!r}); "
            "create it first or choose another path"
        )
    if not parent.is_dir():
        raise NotADirectoryError(f"output {given!r}: {str(parent)!r} is not a directory")
    return path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the path to write in place of ``path``; it becomes ``path`` only if the block succeeds.

    The directory is checked first (:func:`check_output_dir`); the rest is
    :func:`nncrn.network._json.atomic_path`, the one mechanism every output goes through:
    a unique temporary file renamed into place, a link's target written, a device or FIFO
    written directly.
    """
    path = check_output_dir(path)
    with _atomic_path(path) as tmp:
        yield tmp


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], object]) -> None:
    """Call ``writer(tmp)`` to write ``path`` through :func:`atomic_path` (its result is unused)."""
    with atomic_path(path) as tmp:
        writer(tmp)


def check_not_input(
    output: str | os.PathLike | None,
    inputs: Mapping[str, str | os.PathLike | None],
    option: str = "-o",
) -> None:
    """Refuse an ``output`` that is one of the ``inputs`` (``{"the network": path, ...}``).

    Writing it would replace an input file the user meant to keep. A path that does not
    exist yet, ``None`` and ``"-"`` (standard output) never clash; nor does a device or
    FIFO, which is written, not replaced. Links and hard links to the same file do.
    """
    if output is None or os.fspath(output) == "-":
        return
    try:
        out_stat = os.stat(output)
    except OSError:
        return
    if not stat.S_ISREG(out_stat.st_mode):
        return
    for what, path in inputs.items():
        if path is None or os.fspath(path) == "-":
            continue
        try:
            same = os.path.samefile(output, path)
        except OSError:
            continue
        if same:
            raise InputError(
                f"{option} {os.fspath(output)!r} is the same file as {what} "
                f"{os.fspath(path)!r}; writing it would replace the input — choose another "
                "output path"
            )


def _utf8(text: str, what: str, path: str | os.PathLike) -> None:
    """Refuse ``text`` that UTF-8 cannot encode (a lone surrogate such as ``\\ud800``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FormatError(
            f"cannot write {os.fspath(path)!r}: {what} {text!r} holds "
            f"{text[exc.start]!r}, a lone surrogate that UTF-8 cannot encode; rename it "
            "(in the network or data file it comes from)"
        ) from None


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: np.ndarray | list) -> None:
    """Write ``header`` and ``rows`` as UTF-8 CSV through :func:`atomic_path`; floats exactly."""
    for name in header:
        _utf8(str(name), "column name", path)
    for r in rows:
        for v in r:
            if isinstance(v, str):
                _utf8(v, "value", path)

    def write(fh) -> None:
        w = csv.writer(fh, lineterminator="\n")  # not the module default \r\n
        w.writerow(header)
        for r in rows:
            w.writerow([repr(float(v)) if isinstance(v, float | np.floating) else v for v in r])

    if os.fspath(path) == "-":  # standard output, as for `export -o -`
        write(sys.stdout)
        sys.stdout.flush()
        return

    def writer(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            write(fh)

    write_atomic(path, writer)


def _metadata_names(network: ReactionNetwork, key: str) -> list:
    """``network.metadata[key]`` as a list of names (strings or integers); absent or null: []."""
    value = network.metadata.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise FormatError(
            f'the network\'s metadata "{key}" is {shown}; it must be null or a list of names '
            "(strings) — fix the network file or compile it again from the model"
        )
    return list(value)


def input_matrix(network: ReactionNetwork, path: Path) -> np.ndarray:
    """Features of ``path`` as an array, columns named by the network's inputs or feature names."""
    header, rows = read_table(path)
    features = _metadata_names(network, "feature_names")
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
    classes = [str(c) for c in _metadata_names(network, "classes")]
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
