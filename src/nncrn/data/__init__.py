"""Data for the main job: built-in datasets, min-max scaling, and the MLP training loop.

The command line's ``demo`` and ``train`` run these same functions, so a notebook gets
what the CLI does: :func:`load_dataset` (scikit-learn's bundled tables and generated 2-D
patterns, nothing downloaded), :class:`MinMaxScaling` (kept as the network's input map,
``compile_network(..., input_scale=...)``), :func:`build_mlp` / :func:`train_mlp` and
:func:`discretize_mlp` (post-training or quantization-aware), :func:`fold_offset`, and
:func:`save_onnx` (the trained MLP as ONNX).
"""

from nncrn.data._datasets import DATASETS, Dataset, load_dataset
from nncrn.data._discrete import Discretization, discretize_mlp
from nncrn.data._mlp import build_mlp, fold_offset, train_mlp
from nncrn.data._onnx import ONNX_META_KEY, save_onnx
from nncrn.data._scaling import MinMaxScaling, infer_input_range
from nncrn.data._tables import load_csv, numeric_columns, read_table

__all__ = [
    "DATASETS",
    "ONNX_META_KEY",
    "Dataset",
    "Discretization",
    "MinMaxScaling",
    "build_mlp",
    "discretize_mlp",
    "fold_offset",
    "infer_input_range",
    "load_csv",
    "load_dataset",
    "numeric_columns",
    "read_table",
    "save_onnx",
    "train_mlp",
]
