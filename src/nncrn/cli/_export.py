"""``nncrn export`` and ``nncrn import``: convert networks to and from SBML, Antimony, CRN text.

``nncrn export`` also writes a COMBINE/OMEX archive (SBML + a SED-ML time course per
``--inputs`` row), which ``nncrn import`` does not read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nncrn._errors import FormatError, InputError
from nncrn.cli._io import check_not_input, check_output_dir, write_atomic
from nncrn.export._sbml_inputs import CONCENTRATION_UNITS, TIME_UNITS

__all__ = ["register"]

_FORMATS = ("sbml", "antimony", "crn")
_WRITE_FORMATS = (*_FORMATS, "omex")
_EXTENSIONS = {
    ".xml": "sbml",
    ".sbml": "sbml",
    ".ant": "antimony",
    ".antimony": "antimony",
    ".crn": "crn",
    ".txt": "crn",
}
_WRITE_EXTENSIONS = {**_EXTENSIONS, ".omex": "omex"}


def register(subparsers) -> None:
    exp = subparsers.add_parser(
        "export",
        help="write a network (JSON) as SBML, Antimony, CRN text or an OMEX archive",
        description="Export a network saved as JSON to SBML Level 3 Version 2, Antimony, "
        "plain CRN text, or a COMBINE/OMEX archive (.omex: the SBML and a SED-ML simulation "
        "experiment, one time course per --inputs row, that COPASI or Tellurium run "
        "unchanged). The format comes from --format or the output file's extension.",
    )
    exp.add_argument("network", help="network JSON file (from `nncrn compile`)")
    exp.add_argument("--format", choices=_WRITE_FORMATS,
                     help="output format (default: from the extension of -o)")  # fmt: skip
    exp.add_argument("-o", "--output",
                     help="output file; '-' or none for standard output (then --format is "
                     "needed)")  # fmt: skip
    exp.add_argument(
        "--stochastic-volume", type=float, metavar="OMEGA",
        help="SBML only: write molecule counts at this volume and kinetic laws equal to "
        "nncrn's SSA propensities, for stochastic simulators (default: deterministic laws)",
    )  # fmt: skip
    exp.add_argument("--unit", choices=list(CONCENTRATION_UNITS), default="M",
                     help="SBML/OMEX: what one unit of concentration is; the numbers are "
                     "unchanged (default: %(default)s, mole per litre)")  # fmt: skip
    exp.add_argument("--time-unit", choices=list(TIME_UNITS), default="s",
                     help="SBML/OMEX: what one unit of time is (default: %(default)s)")  # fmt: skip
    exp.add_argument("--inputs", type=Path,
                     help="inputs CSV (columns named by the network's inputs or features). "
                     "SBML, Antimony, CRN text: the input species start at the features of one "
                     "row (--row); OMEX: one run per row. Default: the network's initial "
                     "values")  # fmt: skip
    exp.add_argument("--row", type=int, default=None,
                     help="with --inputs, for SBML/Antimony/CRN text: the row to start from, "
                     "counting data rows from 0 (needed when the file has several rows)")  # fmt: skip
    omex = exp.add_argument_group("OMEX archive (SED-ML experiment)")
    omex.add_argument("--t-end", type=float, default=None,
                      help="end of each time course, chemical time (default 100)")  # fmt: skip
    omex.add_argument("--n-points", type=int, default=None,
                      help="output points of each time course, 0 to --t-end (default 101)")  # fmt: skip
    omex.add_argument("--steady", action="store_true",
                      help="also write a steady-state task per row and its report")  # fmt: skip
    exp.set_defaults(func=run_export)

    imp = subparsers.add_parser(
        "import",
        help="read SBML, Antimony or CRN text into a network JSON file",
        description="Import a mass-action model. The format comes from --format or the "
        f"extension ({', '.join(sorted(_EXTENSIONS))}).",
    )
    imp.add_argument("file", help="model file to import")
    imp.add_argument("--format", choices=_FORMATS, help="input format")
    imp.add_argument("-o", "--output", required=True,
                     help="network JSON file to write ('-' for standard output)")  # fmt: skip
    imp.set_defaults(func=run_import)


def _format(explicit: str | None, path: str | None, what: str) -> str:
    writing = what == "output"
    formats = _WRITE_FORMATS if writing else _FORMATS
    extensions = _WRITE_EXTENSIONS if writing else _EXTENSIONS
    if explicit:
        return explicit
    if path is None:
        raise InputError(
            "nncrn export writes to standard output when -o is not given (or is '-'), and "
            f"then needs --format {{{','.join(_FORMATS)}}} (or omex, whose archive is binary); or "
            f"give -o FILE with an extension among "
            f"{', '.join(sorted(extensions))}"
        )
    suffix = Path(path).suffix.lower()
    if suffix in extensions:
        return extensions[suffix]
    if suffix == ".omex":
        raise FormatError(
            f"{path!r} is an OMEX archive, which nncrn import does not read; extract its SBML "
            "model (e.g. model.xml) and import that"
        )
    raise FormatError(
        f"cannot tell the {what} format from {path!r}; pass --format {{{','.join(formats)}}} "
        f"or use an extension among {', '.join(sorted(extensions))}"
    )


def _missing_extra(exc: ImportError) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def run_export(args: argparse.Namespace, console) -> int:
    from nncrn import export
    from nncrn.network import ReactionNetwork

    to_stdout = args.output in (None, "-")
    if not to_stdout:
        check_output_dir(args.output, example="model.xml")
        check_not_input(args.output, {"the network": args.network, "--inputs": args.inputs})
    fmt = _format(args.format, None if to_stdout else args.output, "output")
    omex_options = {"--t-end": args.t_end, "--n-points": args.n_points,
                    "--steady": args.steady or None}  # fmt: skip
    given = [flag for flag, value in omex_options.items() if value is not None]
    if fmt != "omex" and given:
        raise InputError(
            f"{', '.join(given)} {'describe' if len(given) > 1 else 'describes'} the "
            "simulation experiment of an OMEX archive; the "
            f"output format is {fmt}. Write -o run.omex (or --format omex), or drop them"
        )
    if args.row is not None and (args.inputs is None or fmt == "omex"):
        raise InputError(
            "--row picks the row of --inputs that an SBML, Antimony or CRN text export starts "
            "from; " + ("an OMEX archive runs every row: drop --row" if fmt == "omex"
                        else "give --inputs FILE too")
        )  # fmt: skip
    units = {"--unit": args.unit != "M", "--time-unit": args.time_unit != "s"}
    given_units = [flag for flag, set_ in units.items() if set_]
    if given_units and fmt not in ("sbml", "omex"):
        raise InputError(f"{' and '.join(given_units)} apply to SBML and OMEX; the output "
                         f"format is {fmt}")  # fmt: skip
    network = ReactionNetwork.load(args.network)
    if fmt == "omex":
        return _write_omex(args, network, to_stdout, console)
    writer = {"sbml": export.to_sbml, "antimony": export.to_antimony, "crn": export.to_crn_text}
    kwargs: dict = {}
    if args.inputs is not None:
        kwargs["inputs"] = _one_row(network, args.inputs, args.row)
    if fmt == "sbml":
        kwargs.update(concentration_unit=args.unit, time_unit=args.time_unit)
    if args.stochastic_volume is not None:
        if fmt != "sbml":
            raise InputError(
                f"--stochastic-volume applies to SBML only; the output format is {fmt}"
            )
        kwargs["stochastic_volume"] = args.stochastic_volume
    try:
        text = writer[fmt](network, **kwargs)
    except export.MissingExtraError as exc:
        return _missing_extra(exc)
    if to_stdout:
        sys.stdout.write(text)
        return 0
    write_atomic(args.output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    console.print(f"wrote {fmt} ({network.n_species} species, {network.n_reactions} reactions) "
                  f"to {args.output}")  # fmt: skip
    return 0


def _one_row(network, path: Path, row: int | None):
    from nncrn.cli._io import input_matrix

    if not network.inputs:
        raise InputError("the network has no input species, so --inputs has nothing to set; "
                         "drop it")  # fmt: skip
    x = input_matrix(network, path)
    if row is None:
        if x.shape[0] != 1:
            raise InputError(
                f"{path.name} has {x.shape[0]} rows; an SBML, Antimony or CRN text export "
                "starts from one: pick it with --row N (counting from 0), or write an OMEX "
                "archive (-o run.omex), which runs every row"
            )
        return x[0]
    if not 0 <= row < x.shape[0]:
        raise InputError(f"--row {row} is outside {path.name}'s {x.shape[0]} data rows "
                         f"(0 to {x.shape[0] - 1})")  # fmt: skip
    return x[row]


def _write_omex(args: argparse.Namespace, network, to_stdout: bool, console) -> int:
    from nncrn import export
    from nncrn.cli._io import input_matrix

    if args.stochastic_volume is not None:
        raise InputError("--stochastic-volume applies to SBML only; the output format is omex")
    inputs = None
    if args.inputs is not None:
        if not network.inputs:
            raise InputError(
                "the network has no input species, so --inputs has nothing to set; drop it"
            )
        inputs = input_matrix(network, args.inputs)
    options = {key: value for key, value in
               (("t_end", args.t_end), ("n_points", args.n_points)) if value is not None}  # fmt: skip
    try:
        data = export.to_omex(network, inputs, steady_state=args.steady,
                              concentration_unit=args.unit, time_unit=args.time_unit, **options)
    except export.MissingExtraError as exc:
        return _missing_extra(exc)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    write_atomic(args.output, lambda tmp: tmp.write_bytes(data))
    runs = 1 if inputs is None else inputs.shape[0]
    console.print(f"wrote an OMEX archive (SBML, SED-ML with {runs} run{'s' * (runs != 1)}) "
                  f"to {args.output}")  # fmt: skip
    return 0


def run_import(args: argparse.Namespace, console) -> int:
    from nncrn import export

    fmt = _format(args.format, args.file, "input")
    path = Path(args.file)
    if not path.is_file():
        raise FormatError(f"input file {str(path)!r} does not exist or is not a file")
    if args.output != "-":
        check_output_dir(args.output, example="model.json")
        check_not_input(args.output, {"the input file": args.file})
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is not text
    except UnicodeDecodeError as exc:
        raise FormatError(f"{str(path)!r} is not UTF-8 text ({exc.reason})") from None
    reader = {"sbml": export.from_sbml, "antimony": export.from_antimony,
              "crn": export.from_crn_text}  # fmt: skip
    try:
        network = reader[fmt](text)
    except export.MissingExtraError as exc:
        return _missing_extra(exc)
    if network.n_reactions == 0:
        raise FormatError(
            f"{str(path)!r} defines {network.n_species} species and no reactions, so there is "
            f"nothing to simulate; check that it is the intended file and that it is {fmt} "
            "(--format sbml | antimony | crn)"
        )
    if args.output == "-":
        sys.stdout.write(network.to_json())
        return 0
    doc = network.to_json()
    write_atomic(args.output, lambda tmp: tmp.write_text(doc, encoding="utf-8"))
    console.print(f"read {network!r} from {fmt}; wrote {args.output}")
    return 0
