"""Exchange formats: ReactionNetwork <-> SBML, Antimony, plain CRN text; SED-ML and OMEX out.

What each format keeps:

* SBML (:func:`to_sbml` / :func:`from_sbml`): everything — species, stoichiometry, rate
  constants, initial concentrations, roles, input ranges, readout, labels (reaction
  names, character for character, tabs and line breaks included) and metadata (nncrn
  annotations). XML cannot hold control characters such as ``"\\x01"``, so a label or
  readout name with one is refused (:class:`~nncrn.FormatError`), and libsbml cannot
  parse subnormal doubles (below ``2.2e-308``), so such a value is refused
  (:class:`~nncrn.InputError`). Needs ``nncrn[interop]`` (python-libsbml).
* Antimony (:func:`to_antimony` / :func:`from_antimony`): everything, roles, readout and
  metadata through ``//@nncrn`` pragma comments; a ``"`` in a label becomes ``'`` and
  runs of whitespace in labels (line breaks included) collapse to one space. Antimony
  reserves some names (``time``, ``pi``, ``exp``, ``species``, ...): a network with such a
  species name is refused with a message listing them. Labels with control characters
  and subnormal numbers are refused as for SBML (Antimony loads through SBML). Reading
  needs the ``antimony`` package.
* CRN text (:func:`to_crn_text` / :func:`from_crn_text`): everything through ``#@nncrn``
  pragmas; whitespace runs in labels (line breaks included) collapse. Text written by
  other tools carries only reactions and rate constants.

Simulation experiments (write only):

* SED-ML (:func:`to_sedml`): a time course to ``t_end`` (and optionally a steady-state
  task) of the SBML model, one model per input row whose changes set the input species'
  initial concentrations, and data generators, a report and a plot of the readouts.
  Plain XML from the standard library: python-libsedml cannot share a process with
  python-libsbml (their bindings clash), so it is used only to check the output.
* COMBINE/OMEX (:func:`to_omex`): archive bytes with the SBML, that SED-ML (master file)
  and the manifest, which COPASI or Tellurium run unchanged. Needs python-libcombine
  (``nncrn[interop]``).

Input species that some reaction consumes or produces (dual-rail schemes) are ordinary,
changing species in every format; only inputs that are pure catalysts are written as
constant boundary species. Every format uses nncrn's kinetics
(:data:`nncrn.network.KINETICS`): mass action without factorials.
"""

from nncrn.export._antimony import from_antimony, to_antimony
from nncrn.export._common import MissingExtraError
from nncrn.export._crntext import from_crn_text, to_crn_text
from nncrn.export._omex import to_omex
from nncrn.export._sbml_read import from_sbml
from nncrn.export._sbml_write import to_sbml
from nncrn.export._sedml import to_sedml

__all__ = [
    "MissingExtraError",
    "from_antimony",
    "from_crn_text",
    "from_sbml",
    "to_antimony",
    "to_crn_text",
    "to_omex",
    "to_sbml",
    "to_sedml",
]
