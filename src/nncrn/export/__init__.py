"""Exchange formats: ReactionNetwork <-> SBML, Antimony, plain CRN text (pure functions on text).

What each format keeps:

* SBML (:func:`to_sbml` / :func:`from_sbml`): everything — species, stoichiometry, rate
  constants, initial concentrations, roles, input ranges, readout, labels (reaction
  names) and metadata (nncrn annotations). Needs ``nncrn[interop]`` (python-libsbml).
* Antimony (:func:`to_antimony` / :func:`from_antimony`): everything, roles, readout and
  metadata through ``//@nncrn`` pragma comments; a ``"`` in a label becomes ``'`` and
  runs of whitespace in labels collapse. Reading needs the ``antimony`` package.
* CRN text (:func:`to_crn_text` / :func:`from_crn_text`): everything through ``#@nncrn``
  pragmas; whitespace runs in labels collapse. Text written by other tools carries only
  reactions and rate constants.

Every format uses nncrn's kinetics (:data:`nncrn.network.KINETICS`): mass action
without factorials.
"""

from nncrn.export._antimony import from_antimony, to_antimony
from nncrn.export._common import MissingExtraError
from nncrn.export._crntext import from_crn_text, to_crn_text
from nncrn.export._sbml_read import from_sbml
from nncrn.export._sbml_write import to_sbml

__all__ = [
    "MissingExtraError",
    "from_antimony",
    "from_crn_text",
    "from_sbml",
    "to_antimony",
    "to_crn_text",
    "to_sbml",
]
