"""`nncrn export` / `nncrn import` in-process: formats, extensions, atomic writes, exit codes."""

from __future__ import annotations

import os
import stat

import pytest

from nncrn.cli import main
from nncrn.network import Reaction, ReactionNetwork, Readout, Species

pytest.importorskip("libsbml")


@pytest.fixture
def net_json(tmp_path):
    net = ReactionNetwork(
        [Species("X", "input", 0.5), Species("Y", "output")],
        [Reaction.parse("0 -> Y", 0.001), Reaction.parse("2 Y -> Y", 1.0),
         Reaction.parse("X + Y -> X + 2 Y", 0.3, "layer 1 w")],
        [Readout("y", "Y")], {"scheme": "ajd", "eps": 0.001},
    )  # fmt: skip
    path = tmp_path / "net.json"
    net.save(path)
    return net, path


@pytest.mark.parametrize(("fmt", "ext"), [("sbml", ".xml"), ("antimony", ".ant"), ("crn", ".crn")])
def test_export_then_import_round_trips(net_json, tmp_path, fmt, ext):
    if fmt == "antimony":
        pytest.importorskip("antimony")
    net, path = net_json
    out = tmp_path / f"model{ext}"
    assert main(["export", str(path), "-o", str(out)]) == 0  # format from the extension
    back_path = tmp_path / "back.json"
    assert main(["import", str(out), "-o", str(back_path)]) == 0
    assert ReactionNetwork.load(back_path) == net
    explicit = tmp_path / "model.any"
    assert main(["export", str(path), "--format", fmt, "-o", str(explicit)]) == 0
    assert explicit.read_text() == out.read_text()


def test_export_to_stdout(net_json, capsys):
    _, path = net_json
    assert main(["export", str(path), "--format", "crn"]) == 0
    assert "X + Y -> X + 2 Y [k = 0.3]" in capsys.readouterr().out


def test_unknown_extension_is_an_error(net_json, tmp_path, capsys):
    _, path = net_json
    out = tmp_path / "model.bin"
    assert main(["export", str(path), "-o", str(out)]) == 2
    assert "pass --format" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "bad.xml",
            '<?xml version="1.0"?><sbml xmlns="http://www.sbml.org/sbml/level3/version2/core"',
        ),
        ("dup.crn", "A -> B [k = 1]\nA -> B [k = 2]\n"),
        ("unknown.crn", '#@nncrn species {"name": "A"}\nA -> Z [k = 1]\n'),
        ("syntax.txt", "A + B ==> C\n"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, name, content):
    src = tmp_path / name
    src.write_text(content)
    out = tmp_path / "out.json"
    assert main(["import", str(src), "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_missing_network_file(tmp_path, capsys):
    out = tmp_path / "x.xml"
    assert main(["export", str(tmp_path / "nope.json"), "-o", str(out)]) == 2
    assert not out.exists()


def test_existing_output_survives_a_failed_import(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("keep me")
    src = tmp_path / "bad.crn"
    src.write_text("A -> B\n")
    assert main(["import", str(src), "-o", str(out)]) == 2
    assert out.read_text() == "keep me"


def test_stochastic_sbml_export_writes_counts(net_json, tmp_path, capsys):
    _, path = net_json
    out = tmp_path / "stoch.xml"
    assert main(["export", str(path), "--stochastic-volume", "100", "-o", str(out)]) == 0
    text = out.read_text()
    assert 'hasOnlySubstanceUnits="true"' in text
    # input X at 0.5 x volume 100, in molecules
    assert 'id="X" compartment="cell" initialAmount="50.0"' in text
    assert main(["import", str(out), "-o", str(tmp_path / "back.json")]) == 2
    assert "stochastic" in capsys.readouterr().err
    assert main(["export", str(path), "--format", "crn", "--stochastic-volume", "100"]) == 2
    assert "SBML only" in capsys.readouterr().err


def test_export_without_output_needs_a_format(net_json, capsys):
    _, path = net_json
    assert main(["export", str(path)]) == 2
    err = capsys.readouterr().err
    assert "needs --format {sbml,antimony,crn}" in err and "-o FILE" in err
    assert "None" not in err


def test_dash_output_is_standard_output(net_json, tmp_path, monkeypatch, capsys):
    _, path = net_json
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(path), "--format", "crn", "-o", "-"]) == 0
    assert "X + Y -> X + 2 Y [k = 0.3]" in capsys.readouterr().out
    assert not (tmp_path / "-").exists()
    crn = tmp_path / "model.crn"
    assert main(["export", str(path), "-o", str(crn)]) == 0
    capsys.readouterr()
    assert main(["import", str(crn), "-o", "-"]) == 0
    assert ReactionNetwork.from_json(capsys.readouterr().out) == net_json[0]
    assert not (tmp_path / "-").exists()


def _source(command, path, tmp_path, capsys):
    """The file ``command`` reads: the network JSON for export, its CRN text for import."""
    if command == "export":
        return path
    source = tmp_path / "model.crn"
    assert main(["export", str(path), "-o", str(source)]) == 0
    capsys.readouterr()
    return source


@pytest.mark.parametrize("command", ["export", "import"])
def test_output_in_a_missing_directory_or_a_directory(net_json, tmp_path, capsys, command):
    source = _source(command, net_json[1], tmp_path, capsys)
    missing = tmp_path / "nodir" / ("a.xml" if command == "export" else "a.json")
    assert main([command, str(source), "-o", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"output directory '{missing.parent}' does not exist" in err
    assert ".tmp" not in err and "Errno" not in err
    (tmp_path / "d").mkdir()
    for target in (f"{tmp_path / 'd'}/", str(tmp_path / "d")):
        args = [command, str(source), "-o", target]
        assert main(args + (["--format", "sbml"] if command == "export" else [])) == 2
        err = capsys.readouterr().err
        assert f"output '{target}' is a directory; give a file name" in err
        assert "Errno" not in err
    assert list((tmp_path / "d").iterdir()) == []


@pytest.mark.parametrize("command", ["export", "import"])
def test_output_under_a_file_is_not_a_directory(net_json, tmp_path, capsys, command):
    source = _source(command, net_json[1], tmp_path, capsys)
    (tmp_path / "afile").write_text("keep me")
    target = tmp_path / "afile" / "out.crn"
    assert main([command, str(source), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"'{tmp_path / 'afile'}' is not a directory" in err
    assert "does not exist" not in err and "Errno" not in err
    assert (tmp_path / "afile").read_text() == "keep me"


@pytest.mark.parametrize("command", ["export", "import"])
def test_output_file_mode_follows_the_umask(net_json, tmp_path, command):
    _, path = net_json
    source = path
    if command == "import":
        source = tmp_path / "model.crn"
        assert main(["export", str(path), "-o", str(source)]) == 0
    out = tmp_path / ("out.crn" if command == "export" else "out.json")
    old = os.umask(0o022)
    try:
        assert main([command, str(source), "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # as open() gives, not mkstemp's 0600


def test_import_ignores_a_byte_order_mark(tmp_path):
    src = tmp_path / "bom.crn"
    src.write_bytes("\ufeffA + B -> C [k = 2]\n".encode())
    out = tmp_path / "bom.json"
    assert main(["import", str(src), "-o", str(out)]) == 0
    net = ReactionNetwork.load(out)
    assert net.species_names == ("A", "B", "C")
    assert "renamed_species" not in net.metadata


@pytest.mark.parametrize(
    ("name", "content", "species"),
    [("empty.crn", "# only a comment\n", 0), ("bare.ant", "model m\n  species A = 1\nend\n", 1)],
)
def test_import_of_a_file_without_reactions_is_refused(tmp_path, capsys, name, content, species):
    src = tmp_path / name
    src.write_text(content)
    out = tmp_path / "out.json"
    assert main(["import", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"defines {species} species and no reactions" in err
    assert "intended file" in err
    assert not out.exists()


def _scaled_net_json(tmp_path):
    net = ReactionNetwork(
        [Species("X", "input", 1.5, (-1.0, float("inf")), 0.5), Species("Y", "output")],
        [Reaction.parse("0 -> Y", 0.001), Reaction.parse("2 Y -> Y", 1.0),
         Reaction.parse("X + Y -> X + 2 Y", 0.3, "layer 1 w")],
        [Readout("y", "Y")], {"feature_names": ["dose"], "classes": ["high"]},
    )  # fmt: skip
    path = tmp_path / "scaled.json"
    net.save(path)
    return net, path


def test_export_starts_from_a_row_of_inputs_in_feature_units(tmp_path, capsys):
    from nncrn.export import from_antimony, from_sbml

    _, path = _scaled_net_json(tmp_path)
    csv = tmp_path / "rows.csv"
    csv.write_text("dose\n0.0\n3.0\n")
    out = tmp_path / "m.xml"
    assert main(["export", str(path), "-o", str(out), "--inputs", str(csv), "--row", "1",
                 "--unit", "nM", "--time-unit", "min"]) == 0  # fmt: skip
    text = out.read_text()
    back = from_sbml(text)
    assert back.species[0].initial == (3.0 + 1.0) * 0.5
    assert 'id="dose"' in text and "nanomole" in text and "minute" in text
    ant = tmp_path / "m.ant"
    assert main(["export", str(path), "-o", str(ant), "--inputs", str(csv), "--row", "0"]) == 0
    assert from_antimony(ant.read_text()).species[0].initial == 0.5
    assert "high := Y;" in ant.read_text()
    capsys.readouterr()
    # two rows and no --row; --row without --inputs; --unit on CRN text; --row past the end
    for args, message in (
        (["-o", str(out), "--inputs", str(csv)], "has 2 rows.*--row N"),
        (["-o", str(out), "--row", "0"], "give --inputs FILE too"),
        (["-o", str(tmp_path / "m.crn"), "--unit", "nM"], "--unit apply to SBML and OMEX"),
        (["-o", str(out), "--inputs", str(csv), "--row", "2"], "--row 2 is outside"),
        (["-o", str(tmp_path / "m.omex"), "--inputs", str(csv), "--row", "1"], "drop --row"),
    ):
        assert main(["export", str(path), *args]) == 2
        assert __import__("re").search(message, capsys.readouterr().err), args
