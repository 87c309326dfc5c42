"""Notebook presentation shared by the network and the results: HTML tables, pandas frames.

A low module (numpy, the standard library and the error classes) so that every layer can use it;
pandas is optional and imported only when a frame is asked for.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from nncrn._errors import InputError

__all__ = ["html_table", "require_pandas", "species_columns", "unique_columns"]

HTML_ROWS = 10
"""Rows a result's ``_repr_html_`` shows: enough to see the values, short in a notebook."""

HTML_COLUMNS = 12
"""Value columns shown before the rest are elided (a wide readout would overflow a cell)."""


def require_pandas(what: str) -> ModuleType:
    """The ``pandas`` module, or an ImportError that says how to install it.

    ``what`` names the call, e.g. ``"SteadyState.to_dataframe"``.
    """
    try:
        import pandas
    except ImportError as err:
        raise ImportError(
            f"{what} returns a pandas DataFrame, and pandas is not installed; "
            "install it with `pip install pandas` (or `pip install 'nncrn[frames]'`). "
            "The same values are on the result as numpy arrays without pandas"
        ) from err
    return pandas


def unique_columns(columns: Sequence[str], what: str) -> list[str]:
    """``list(columns)`` if no name repeats; an InputError naming the clash otherwise."""
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise InputError(
                f"{what}: two columns would both be named {c!r} (a readout output named like "
                "a status column?); rename the readout, or read the numpy arrays on the result"
            )
        seen.add(c)
    return list(columns)


def species_columns(species: object, names: Sequence[str], what: str) -> list[int]:
    """Positions of the species a frame should show: ``True`` all, ``False``/None none,
    a name or a list of names those (an InputError names one that is missing)."""
    if species is None or species is False:
        return []
    if species is True:
        return list(range(len(names)))
    chosen = [species] if isinstance(species, str) else list(species)  # type: ignore[call-overload]
    index = {n: i for i, n in enumerate(names)}
    for s in chosen:
        if s not in index:
            raise InputError(
                f"{what}: species={s!r} is not a species of the result; pass True for all, "
                f"or names among {list(names)[:20]}{' ...' if len(names) > 20 else ''}"
            )
    return [index[s] for s in chosen]


def _cell(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return html.escape(text)


def html_table(
    summary: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    n_rows: int | None = None,
    noun: str = "rows",
) -> str:
    """A notebook cell's HTML: ``summary`` above a table of the first :data:`HTML_ROWS` rows.

    ``n_rows`` is the total number of rows (``len(rows)`` by default); when it exceeds
    the rows given, a footer says how many more there are. Columns past
    :data:`HTML_COLUMNS` are elided.
    """
    total = len(rows) if n_rows is None else n_rows
    rows = list(rows)[:HTML_ROWS]
    header = list(header)
    cut = len(header) > HTML_COLUMNS
    if cut:
        header = [*header[:HTML_COLUMNS], "…"]
        rows = [[*r[:HTML_COLUMNS], "…"] for r in rows]
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    more = total - len(rows)
    foot = f"<p>… {more} more {noun}</p>" if more > 0 else ""
    return (
        f"<div><p>{html.escape(summary)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>"
    )
