"""Pack a network's SBML and a SED-ML experiment into a COMBINE/OMEX archive (python-libcombine).

The archive holds ``manifest.xml`` and two files, which the manifest lists:

* ``model.xml``: :func:`~nncrn.export.to_sbml` of the network (deterministic export),
  format ``.../sbml.level-3.version-2``;
* ``simulation.sedml``: :func:`~nncrn.export.to_sedml`, the master file (what a tool runs
  when it opens the archive), format ``.../sed-ml.level-1.version-3``;
* and ``.``, the archive itself (format ``.../omex``).

COPASI, Tellurium and the BioSimulators tools open such an archive and run the experiment
unchanged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nncrn.export._common import import_optional
from nncrn.export._sbml_write import to_sbml
from nncrn.export._sedml import to_sedml
from nncrn.network import ReactionNetwork, require_network

__all__ = ["OMEX_MODEL", "OMEX_SEDML", "to_omex"]

OMEX_MODEL = "model.xml"
"""Location of the SBML model inside the archive."""
OMEX_SEDML = "simulation.sedml"
"""Location of the SED-ML experiment (the archive's master file)."""

_SPEC = "http://identifiers.org/combine.specifications/"
SBML_FORMAT = _SPEC + "sbml.level-3.version-2"
SEDML_FORMAT = _SPEC + "sed-ml.level-1.version-3"


def to_omex(
    network: ReactionNetwork,
    inputs: object = None,
    *,
    t_end: float = 100.0,
    n_points: int = 101,
    steady_state: bool = False,
    plot: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    concentration_unit: str = "M",
    time_unit: str = "s",
) -> bytes:
    """Bytes of a COMBINE/OMEX archive: the SBML of ``network`` and a SED-ML experiment on it.

    The arguments are those of :func:`~nncrn.export.to_sedml` (one run per input row, a
    uniform time course to ``t_end``, optionally a steady-state task); write the bytes
    to a ``.omex`` file. ``concentration_unit`` and ``time_unit`` are those of
    :func:`~nncrn.export.to_sbml`. Needs ``nncrn[interop]`` (python-libsbml, python-libcombine).

    Raises
    ------
    InputError, FormatError
        As :func:`~nncrn.export.to_sbml` and :func:`~nncrn.export.to_sedml`.
    """
    network = require_network(network, "to_omex")
    libcombine = import_optional("libcombine", "OMEX export")
    sedml = to_sedml(
        network, inputs, t_end=t_end, n_points=n_points, steady_state=steady_state,
        plot=plot, rtol=rtol, atol=atol, model_source=OMEX_MODEL,
    )  # fmt: skip
    # SED-ML sets the input species themselves: no feature parameters overriding them
    sbml = to_sbml(network, feature_parameters=False, concentration_unit=concentration_unit,
                   time_unit=time_unit)  # fmt: skip
    archive = libcombine.CombineArchive()
    try:
        for text, location, fmt, master in (
            (sbml, OMEX_MODEL, SBML_FORMAT, False),
            (sedml, OMEX_SEDML, SEDML_FORMAT, True),
        ):
            if not archive.addFileFromString(text, location, fmt, master):
                raise RuntimeError(f"libcombine refused to add {location!r} to the archive")
        manifest = archive.getManifest()
        for location, fmt in ((".", _SPEC + "omex"),):
            content = manifest.createContent()
            content.setLocation(location)
            content.setFormat(fmt)
        # libcombine writes archives to files only; the file is scratch, the bytes the result
        with tempfile.TemporaryDirectory(prefix="nncrn-omex-") as tmp:
            path = Path(tmp) / "archive.omex"
            if not archive.writeToFile(str(path)):
                raise RuntimeError(f"libcombine could not write the archive to {str(path)!r}")
            return path.read_bytes()
    finally:
        archive.cleanUp()
