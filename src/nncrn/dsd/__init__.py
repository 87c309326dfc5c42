"""DNA strand-displacement designs of reaction networks: translation, enumeration, verification.

``translate`` turns any :class:`~nncrn.ReactionNetwork` into a domain-level design
(PIL) under a published scheme (:class:`Soloveichik2010`, :class:`Qian2011`);
``verify`` enumerates each module with peppercorn and checks it against its formal
reaction with crnverifier (CRN bisimulation), and the whole design where the enumerator
finishes; ``dsd_network`` is the condensed DSD-level network, with optional leaks, as a
``ReactionNetwork``; ``fuel_depletion`` reads how much fuel a simulation of it has
left, and when the first fuel ran low. Enumeration and verification need the ``dsd`` extra
(``pip install 'nncrn[dsd]'``); translation does not.
"""

from nncrn.dsd._complex import Complex, Kind
from nncrn.dsd._condensed import ModuleEnumeration, dsd_network, enumerate_modules
from nncrn.dsd._depletion import FuelDepletion, fuel_depletion
from nncrn.dsd._design import (
    DesignCost,
    DSDDesign,
    Module,
    SchemeRefusal,
    propose_scheme,
    translate,
)
from nncrn.dsd._enumerate import (
    EnumeratedComplex,
    EnumeratedReaction,
    Enumeration,
    enumerate_pil,
)
from nncrn.dsd._schemes import SCHEMES, DSDScheme, Qian2011, Soloveichik2010
from nncrn.dsd._verify import (
    Implementation,
    ModuleCheck,
    Verification,
    interpret,
    verify,
    verify_reaction,
)

__all__ = [
    "SCHEMES",
    "Complex",
    "DSDDesign",
    "DSDScheme",
    "DesignCost",
    "EnumeratedComplex",
    "EnumeratedReaction",
    "Enumeration",
    "FuelDepletion",
    "Implementation",
    "Kind",
    "Module",
    "ModuleCheck",
    "ModuleEnumeration",
    "Qian2011",
    "SchemeRefusal",
    "Soloveichik2010",
    "Verification",
    "dsd_network",
    "enumerate_modules",
    "enumerate_pil",
    "fuel_depletion",
    "interpret",
    "propose_scheme",
    "translate",
    "verify",
    "verify_reaction",
]
