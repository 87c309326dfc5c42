"""draw_network (layered, bipartite and summary views) and the `nncrn draw` command."""

from __future__ import annotations

import time

import matplotlib
import numpy as np
import pytest

from nncrn.cli import main
from nncrn.compile import DenseLayer, DualRail, LayerStack, SmoothReLUScheme
from nncrn.network import Reaction, ReactionNetwork, Readout, Species
from nncrn.plot import draw_network

matplotlib.use("Agg")

W1 = [[2.0, -1.0], [0.0, 1.0], [-1.0, 1.0]]  # 5 non-zero weights, 3 positive
W2 = [[1.0, -3.0, 2.0]]  # 3 non-zero weights, 2 positive


def _stack(w1=W1, w2=W2) -> LayerStack:
    return LayerStack((
        DenseLayer(w1, np.linspace(-0.5, 0.5, len(w1)), "relu"),
        DenseLayer(w2, np.full(len(w2), 0.25), "identity"),
    ), "test")  # fmt: skip


def _gid(ax, gid):
    found = [a for a in [*ax.collections, *ax.patches] if a.get_gid() == gid]
    return found[0] if found else None


@pytest.fixture
def close():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture
def enzyme():
    return ReactionNetwork(
        [Species("E", "input", 1.0), Species("S", "input", 1.0), Species("ES"),
         Species("P", "output")],
        [Reaction.parse("E + S -> ES", 1.0), Reaction.parse("ES -> E + S", 0.5),
         Reaction.parse("ES -> E + P", 0.3), Reaction.parse("2 P -> 0", 0.05)],
        [Readout("p", "P")],
    )  # fmt: skip


@pytest.mark.parametrize(("scheme", "drawn"), [(SmoothReLUScheme(), 2 + 3 + 2), (DualRail(), 2 + 6 + 2)])
def test_layered_nodes_and_signed_edges(scheme, drawn, close):
    import matplotlib.colors as mc

    net = scheme.build(_stack())
    ax = draw_network(net)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(_gid(ax, "nncrn-species").get_paths()) == drawn
    edges = _gid(ax, "nncrn-edges")
    colors = [mc.to_hex(c) for c in edges.get_colors()]
    assert len(edges.get_segments()) == 5 + 3  # one edge per non-zero weight, either rail
    assert colors.count("#2166ac") == 3 + 2 and colors.count("#b2182b") == 2 + 1
    widths = np.asarray(edges.get_linewidths())
    assert widths.max() > widths.min()  # |w| = 3 draws wider than |w| = 1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("positive weight") for t in legend)
    assert any(t.startswith("negative weight") for t in legend)


def test_layered_labels_features_and_classes(close):
    net = SmoothReLUScheme().build(
        _stack(), output_names=["yes"],
        metadata={"feature_names": ["sepal length", "sepal width"], "classes": ["yes"]},
    )  # fmt: skip
    ax = draw_network(net)
    texts = {t.get_text() for t in ax.texts}
    assert {"X0", "H1_2", "Y0p", "Y0n", "sepal length", "sepal width"} <= texts
    assert "yes  (Y0p − Y0n)" in texts
    assert any("3-1" in t and "network 2-3-1" in t for t in texts)  # title: the layer sizes
    ax = draw_network(net, labels=False, legend=False, title="")
    assert not {"X0", "sepal length"} & {t.get_text() for t in ax.texts}
    assert ax.get_legend() is None


def test_layered_nodes_do_not_overlap(close):
    ax = draw_network(SmoothReLUScheme().build(_stack(np.ones((8, 4)), np.ones((3, 8)))))
    centres = np.array([p.vertices.mean(axis=0) for p in _gid(ax, "nncrn-species").get_paths()])
    d = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 2 * 0.22  # node radius in data units


def test_bipartite_view_for_other_networks(enzyme, close):
    ax = draw_network(enzyme)
    assert len(_gid(ax, "nncrn-species").get_paths()) == enzyme.n_species
    assert len(_gid(ax, "nncrn-reactions").get_paths()) == enzyme.n_reactions
    assert len(_gid(ax, "nncrn-edges").get_segments()) == 3 + 3 + 3 + 1
    centres = np.array([p.vertices.mean(axis=0) for gid in ("nncrn-species", "nncrn-reactions")
                        for p in _gid(ax, gid).get_paths()])  # fmt: skip
    d = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 2 * 0.22  # no two nodes overlap
    compiled = SmoothReLUScheme().build(_stack())
    ax = draw_network(compiled, layout="bipartite")
    assert len(_gid(ax, "nncrn-reactions").get_paths()) == compiled.n_reactions
    with pytest.raises(ValueError, match="compiled network"):
        draw_network(enzyme, layout="layered")
    with pytest.raises(ValueError, match="layout"):
        draw_network(enzyme, layout="circular")
    with pytest.raises(ValueError, match="ReactionNetwork"):
        draw_network("net.json")


def test_summary_kicks_in_above_the_threshold(enzyme, close):
    rng = np.random.default_rng(0)
    big = SmoothReLUScheme().build(_stack(rng.normal(size=(60, 40)), rng.normal(size=(10, 60))))
    assert big.n_reactions > 2000
    start = time.perf_counter()
    ax = draw_network(big)
    ax.figure.canvas.draw()
    assert time.perf_counter() - start < 10  # about 0.5 s; generous for a loaded machine
    assert _gid(ax, "nncrn-species") is None
    assert len(_gid(ax, "nncrn-blocks").get_paths()) == 2 + 2  # inputs, 2 layers, readouts
    assert any("2,400 " in t.get_text() or "positive" in t.get_text() for t in ax.texts)
    small = SmoothReLUScheme().build(_stack())
    assert _gid(draw_network(small, max_reactions=small.n_reactions), "nncrn-species")
    assert _gid(draw_network(small, max_reactions=small.n_reactions - 1), "nncrn-blocks")
    assert _gid(draw_network(big, summarize=False), "nncrn-species")
    ax = draw_network(enzyme, max_reactions=2)  # bipartite: blocks per species role
    assert len(_gid(ax, "nncrn-blocks").get_paths()) == 3  # input, auxiliary, output
    with pytest.raises(ValueError, match="max_reactions"):
        draw_network(enzyme, max_reactions=-1)


def test_draws_into_a_given_axes_and_an_empty_network(close):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(4, 3))
    assert draw_network(SmoothReLUScheme().build(_stack()), ax) is ax
    assert draw_network(ReactionNetwork([], [])).texts


# ------------------------------------------------------------------------------ CLI
@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "net.json"
    DualRail().build(_stack()).save(path)
    return path


def test_cli_writes_png_svg_and_pdf(net_file, tmp_path, capsys):
    for name, magic in (("net.png", b"\x89PNG\r\n\x1a\n"), ("net.svg", b"<?xml"), ("n.pdf", b"%PDF")):
        out = tmp_path / name
        assert main(["draw", str(net_file), "-o", str(out)]) == 0
        assert out.read_bytes().startswith(magic)
    assert "wrote" in capsys.readouterr().out
    out = tmp_path / "sum.png"
    assert main(["draw", str(net_file), "-o", str(out), "--summarize", "--dpi", "50"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no temporary files left
        "n.pdf", "net.json", "net.png", "net.svg", "sum.png"]


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "{tmp}/x.txt"], "extension '.txt'"),
    (["-o", "{tmp}/x"], "extension '(none)'"),
    (["-o", "{tmp}/missing/x.png"], "does not exist"),
    (["-o", "{tmp}/x.png", "--max-reactions", "-1"], "--max-reactions"),
    (["-o", "{tmp}/x.png", "--dpi", "0"], "--dpi"),
])  # fmt: skip
def test_cli_refuses_bad_output(net_file, tmp_path, capsys, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["draw", str(net_file), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json"]


def test_cli_refuses_a_file_that_is_not_a_network(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["draw", str(bad), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "x.png").exists()
