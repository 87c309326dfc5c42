"""Checks of the metadata entries nncrn itself reads, run when a network is built or loaded.

Metadata is free-form provenance, but some keys are read back by the library (the CLI's
CSV columns and class names, ``nncrn info``, training): a file holding
``"feature_names": 5`` would load and then fail deep inside a command. Each known key is
therefore checked for the shape nncrn writes; other keys are left alone.

==================  ==========================================================================
key                 expected
==================  ==========================================================================
feature_names       list of strings, one per input species (one per input pair when the
                    scheme has ``dual_inputs``)
classes             list of class labels (strings or numbers), one per readout (two for a
                    binary classifier with one readout); null for none
scheme              object with a string ``name`` (and a boolean ``dual_inputs`` if given),
                    or the name alone as a string
layers              list of objects, each with a list of species names ``species`` and a
                    string ``activation`` where given
output_stage        object with a string ``kind``
renamed_species     object mapping a species name to the name it had in the source file
==================  ==========================================================================

``scheme``, ``layers``, ``output_stage`` and ``renamed_species`` may also be null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nncrn._errors import NetworkError

__all__ = ["check_metadata"]


def _type(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, tuple):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"


def _show(value: object) -> str:
    text = repr(value if not isinstance(value, Mapping) else dict(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(key: str, expected: str, value: object, fix: str) -> NetworkError:
    return NetworkError(
        f"metadata[{key!r}] must be {expected}; got {_type(value)} ({_show(value)}). {fix}"
    )


def _strings(key: str, value: object, expected: str, fix: str) -> tuple[str, ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise _fail(key, expected, value, fix)
    return value


def check_metadata(metadata: Mapping[str, Any], species, readout) -> None:
    """Refuse a known metadata key whose value nncrn could not use (see the module docstring).

    ``metadata`` is already frozen (lists are tuples, objects are mappings).
    """
    scheme = metadata.get("scheme")
    dual = False
    if scheme is not None and not isinstance(scheme, str):
        if not isinstance(scheme, Mapping) or not isinstance(scheme.get("name"), str):
            raise _fail("scheme", 'an object with a string "name"', scheme,
                        'Write e.g. {"name": "smooth_relu", "eps": 0.001}, or drop the entry')  # fmt: skip
        dual = scheme.get("dual_inputs", False)
        if not isinstance(dual, bool):
            raise _fail("scheme.dual_inputs", "true or false", dual,
                        "It says whether each feature has a pair of input species")  # fmt: skip
    n_inputs = sum(1 for s in species if s.role.value == "input")
    if "feature_names" in metadata:
        names = _strings("feature_names", metadata["feature_names"], "a list of strings",
                         'Write e.g. ["width", "height"], one name per input feature')  # fmt: skip
        allowed = {n_inputs} | ({n_inputs / 2} if dual else set())
        if len(names) not in allowed:
            raise NetworkError(
                f"metadata['feature_names'] has {len(names)} names but the network has "
                f"{n_inputs} input species"
                + (" (input pairs: one feature per pair)" if dual else "")
                + "; give one name per input feature, or drop the entry"
            )
    if metadata.get("classes") is not None:  # compile_network writes null for a regressor
        classes = metadata["classes"]
        if not isinstance(classes, tuple) or not all(
            isinstance(c, str | int | float) for c in classes
        ):
            raise _fail("classes", "a list of class labels (strings or numbers)", classes,
                        'Write e.g. ["setosa", "versicolor"], one label per readout')  # fmt: skip
        n_out = len(readout)
        if len(classes) != n_out and not (n_out == 1 and len(classes) == 2):
            raise NetworkError(
                f"metadata['classes'] has {len(classes)} labels but the network has {n_out} "
                "readouts; give one class label per readout (two for a binary classifier "
                "with one readout), or drop the entry"
            )
    if metadata.get("layers") is not None:
        layers = metadata["layers"]
        fix = 'Each layer is e.g. {"species": ["H1_0", "H1_1"], "activation": "smooth_relu"}'
        if not isinstance(layers, tuple) or not all(isinstance(x, Mapping) for x in layers):
            raise _fail("layers", "a list of objects", layers, fix)
        for i, layer in enumerate(layers):
            if "species" in layer:
                _strings(f"layers[{i}].species", layer["species"], "a list of species names",
                         fix)  # fmt: skip
            if "activation" in layer and not isinstance(layer["activation"], str):
                raise _fail(f"layers[{i}].activation", "a string", layer["activation"], fix)
    if metadata.get("output_stage") is not None:
        stage = metadata["output_stage"]
        if not isinstance(stage, Mapping) or not isinstance(stage.get("kind", ""), str):
            raise _fail("output_stage", 'an object with a string "kind"', stage,
                        'nncrn.with_argmax writes {"kind": "argmax", ...}; drop the entry '
                        "otherwise")  # fmt: skip
    if metadata.get("renamed_species") is not None:
        renamed = metadata["renamed_species"]
        if not isinstance(renamed, Mapping) or not all(
            isinstance(v, str) for v in renamed.values()
        ):
            raise _fail("renamed_species", "an object mapping species names to strings", renamed,
                        'The importers write e.g. {"A_1": "A-1"}; drop the entry otherwise')  # fmt: skip


def thaw_json(value: Any) -> Any:
    """Inverse of the metadata freeze: plain dicts and lists (for ``json.dumps``)."""
    if isinstance(value, Mapping):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw_json(v) for v in value]
    return value
