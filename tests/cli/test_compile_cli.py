"""``nncrn compile``: which scheme a model.json gets, and one-line errors for bad files and options."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nncrn.cli import main
from nncrn.cli._models import save_model
from nncrn.compile import ApproximationWarning
from nncrn.network import ReactionNetwork
from nncrn.nn import SmoothReLU
from nncrn.simulate import fixed_point


def _model(eps=0.01, n_out=2):
    torch.manual_seed(0)
    act = SmoothReLU(eps) if eps is not None else torch.nn.ReLU()
    return torch.nn.Sequential(torch.nn.Linear(3, 4), act, torch.nn.Linear(4, n_out)).double()


@pytest.fixture
def model_file(tmp_path):
    """A model.json with SmoothReLU(0.01) layers and no top-level eps."""
    path = tmp_path / "model.json"
    save_model(path, _model(), {})
    return path


def _fails(argv, capsys, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_smooth_relu_layers_compile_with_their_own_eps(model_file, tmp_path, capsys):
    out = tmp_path / "net.json"
    assert main(["compile", str(model_file), "-o", str(out)]) == 0
    net = ReactionNetwork.load(out)
    assert net.metadata["scheme"] == {"name": "smooth_relu", "eps": 0.01}
    x = np.random.default_rng(0).uniform(0, 1, size=(5, 3))
    want = _model()(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(fixed_point(net, x).outputs, want, rtol=1e-10, atol=1e-12)
    assert main(["compile", str(model_file), "-o", str(out), "--eps", "0.01"]) == 0
    _fails(["compile", str(model_file), "-o", str(out), "--eps", "0.001"], capsys,
           "--eps 0.001 differs from the eps=0.01", "Use --eps 0.01 or omit --eps")  # fmt: skip


def test_eps_sets_the_smoothing_of_relu_layers(tmp_path):
    path, out = tmp_path / "relu.json", tmp_path / "net.json"
    save_model(path, _model(eps=None), {"eps": 0.5})
    # default: 1e-3, not the top-level eps
    with pytest.warns(ApproximationWarning, match="eps=0.001"):
        assert main(["compile", str(path), "-o", str(out)]) == 0
    assert ReactionNetwork.load(out).metadata["scheme"]["eps"] == 0.001
    with pytest.warns(ApproximationWarning, match="eps=0.04"):
        assert main(["compile", str(path), "-o", str(out), "--eps", "0.04"]) == 0
    assert ReactionNetwork.load(out).metadata["scheme"]["eps"] == 0.04


@pytest.mark.parametrize(
    ("value", "shown"), [("-1", "--eps is -1.0"), ("nan", "--eps is nan"), ("0", "--eps is 0.0")]
)
def test_bad_eps_option(model_file, tmp_path, capsys, value, shown):
    out = tmp_path / "net.json"
    _fails(["compile", str(model_file), "-o", str(out), "--eps", value], capsys,
           shown, "finite number > 0", "Omit --eps")  # fmt: skip
    assert not out.exists()


def _edit(path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def _set(d, key, value):
    d[key] = value


BAD_FILES = [
    (lambda d: _set(d, "eps", "abc"), ['top-level "eps" is \'abc\'', "finite number >= 0"]),
    (lambda d: _set(d["layers"][1], "eps", -1), ["layer 1 (SmoothReLU)", '"eps" is -1']),
    (lambda d: d["layers"][1].pop("eps"), ["layer 1 (SmoothReLU) has no \"eps\" field"]),
    (lambda d: d["layers"][0].pop("weight"), ["layer 0 (linear) has no \"weight\" field"]),
    (lambda d: _set(d["layers"][0], "weight", [[1.0, "a", 2.0]] * 4),
     ["layer 0 (linear): \"weight\" is", "a list of rows of numbers"]),
    (lambda d: _set(d["layers"][0], "bias", "a"), ['"bias" is \'a\'', "a list of numbers"]),
    (lambda d: _set(d, "input_range", 5), ['"input_range" is 5', "[low, high] pairs"]),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "fragments"), BAD_FILES)
def test_bad_model_file_is_one_line_error(model_file, tmp_path, capsys, edit, fragments):
    out = tmp_path / "net.json"
    err = _fails(["compile", str(_edit(model_file, edit)), "-o", str(out)], capsys, *fragments)
    assert "re-save the model with `nncrn train`" in err
    assert not out.exists()


def test_argmax_on_one_output_says_what_to_do(tmp_path, capsys):
    path = tmp_path / "one.json"
    save_model(path, _model(n_out=1), {})
    _fails(["compile", str(path), "-o", str(tmp_path / "net.json"), "--argmax"], capsys,
           "--argmax needs a model with at least 2 outputs", "has 1 (y0)", "drop --argmax")  # fmt: skip


def test_missing_output_directory_is_named(model_file, tmp_path, capsys):
    missing = tmp_path / "nope" / "net.json"
    err = _fails(["compile", str(model_file), "-o", str(missing)], capsys,
                 f"output directory {str(missing.parent)!r} does not exist")  # fmt: skip
    assert ".tmp" not in err
