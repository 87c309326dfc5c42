"""Command-line interface: the only place that touches argv, files and exit codes.

Each command lives in its own module exposing ``register(subparsers)``, which adds a
subparser and sets ``func`` to a ``run(args, console) -> int`` function. Errors are
printed as ``error: ...`` on stderr: exit code 2 for bad input (an nncrn error about the
input, or a file that cannot be read or written), 1 for a failed computation
(:class:`~nncrn.ConvergenceError`). Anything else is a bug and keeps its traceback;
``--debug`` shows tracebacks for the handled errors too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, cast

from nncrn._errors import ConvergenceError, NNCRNError

__all__ = ["main"]

# Command modules, in the order `nncrn --help` lists them.
_COMMANDS = (
    "nncrn.cli._demo",
    "nncrn.cli._train",
    "nncrn.cli._compile",
    "nncrn.cli._simulate",
    "nncrn.cli._info",
    "nncrn.cli._compare",
    "nncrn.cli._export",
    "nncrn.cli._noise",
    "nncrn.cli._fit",
    "nncrn.cli._robustness",
    "nncrn.cli._draw",
    "nncrn.cli._search",
    "nncrn.cli._rncrn",
    "nncrn.cli._dsd",
)


def _version() -> str:
    from nncrn import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncrn",
        description="Compile neural networks into chemical reaction networks and simulate them.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"nncrn {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not shipped in this build
                continue
            raise
        module.register(sub)
    return parser


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch (and BLAS) on one thread unless the user set ``OMP_NUM_THREADS``.

    The commands' work is small batched kernels and small MLPs, which gain little from
    intra-op threads; on two cores shared with any other process, two threads made
    `nncrn demo --dataset digits` ~7x slower in our measurements (209 s against 30 s). The
    variable is read when torch is first imported; a torch imported earlier (``main``
    called in-process) is set directly. Both are restored afterwards.
    """
    if "OMP_NUM_THREADS" in os.environ:
        yield
        return
    os.environ["OMP_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        del os.environ["OMP_NUM_THREADS"]
        if torch is not None and threads is not None:  # threads is set when torch is
            torch.set_num_threads(threads)


class _Stdout:
    """``sys.stdout`` for the console: a character its encoding lacks is written escaped.

    What the console shows (tables, "wrote ..." lines) holds names from the user's files;
    a lone surrogate (``\\ud800``) in a reaction label, or an accented name on a console
    with a narrow encoding, is shown as a backslash escape rather than raising
    ``UnicodeEncodeError`` after the work is done (stderr already escapes, by Python's
    default). ``sys.stdout`` is looked up at each call, as a caller may replace it.
    """

    def write(self, text: str) -> int:
        stream = sys.stdout
        try:
            return stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "utf-8"
            return stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stdout, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nncrn`` command; returns the process exit code."""
    from rich.console import Console

    parser = build_parser()
    args = parser.parse_args(argv)
    # _Stdout is a text stream by duck typing: what it lacks comes from sys.stdout
    console = Console(file=cast(IO[str], _Stdout()), highlight=False)
    try:
        with _one_thread():
            return int(args.func(args, console) or 0)
    except ConvergenceError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (NNCRNError, OSError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
