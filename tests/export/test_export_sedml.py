"""SED-ML and COMBINE/OMEX export: documents libsedml/libcombine read without errors, and an
experiment that an independent simulator (libRoadRunner), driven only by what the SED-ML
says, reproduces nncrn's readouts.

libsedml is only ever imported in a child process: its Python bindings share SWIG types
with python-libsbml's, and importing both into this process would make libsbml return
libsedml proxies for kinetic laws, breaking every SBML reader test that runs after it.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import nncrn
from nncrn import InputError
from nncrn.cli import main
from nncrn.export import to_omex, to_sbml, to_sedml
from nncrn.network import Reaction, ReactionNetwork, Readout, Species, input_concentrations

from .export_helpers import ajd_network

libsbml = pytest.importorskip("libsbml")

_SPEC = "http://identifiers.org/combine.specifications/"

# Runs in a child process: read SED-ML from stdin with libsedml, print what it holds as JSON.
_READ_SEDML = r"""
import json, sys
import libsedml as S
doc = S.readSedMLFromString(sys.stdin.read())
errors = [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
          if doc.getError(i).getSeverity() >= S.LIBSEDML_SEV_ERROR]
def algorithm(sim):
    a = sim.getAlgorithm()
    params = {a.getAlgorithmParameter(i).getKisaoID(): a.getAlgorithmParameter(i).getValue()
              for i in range(a.getNumAlgorithmParameters())}
    return {"kisao": a.getKisaoID(), "params": params}
sims = {}
for i in range(doc.getNumSimulations()):
    s = doc.getSimulation(i)
    entry = {"type": "other", **algorithm(s)}
    if s.getTypeCode() == S.SEDML_SIMULATION_UNIFORMTIMECOURSE:
        entry.update(type="uniform", initial=s.getInitialTime(), start=s.getOutputStartTime(),
                     end=s.getOutputEndTime(), points=s.getNumberOfPoints())
    elif s.getTypeCode() == S.SEDML_SIMULATION_STEADYSTATE:
        entry["type"] = "steady"
    sims[s.getId()] = entry
models = {}
for i in range(doc.getNumModels()):
    m = doc.getModel(i)
    models[m.getId()] = {"source": m.getSource(), "language": m.getLanguage(),
                         "changes": [[m.getChange(j).getTarget(), m.getChange(j).getNewValue()]
                                     for j in range(m.getNumChanges())]}
tasks = {doc.getTask(i).getId(): [doc.getTask(i).getModelReference(),
                                  doc.getTask(i).getSimulationReference()]
         for i in range(doc.getNumTasks())}
generators = {}
for i in range(doc.getNumDataGenerators()):
    g = doc.getDataGenerator(i)
    variables = [{"id": v.getId(), "target": v.getTarget() if v.isSetTarget() else None,
                  "symbol": v.getSymbol() if v.isSetSymbol() else None,
                  "task": v.getTaskReference()}
                 for v in (g.getVariable(j) for j in range(g.getNumVariables()))]
    generators[g.getId()] = {"name": g.getName(), "variables": variables,
                             "formula": S.formulaToL3String(g.getMath())}
reports, plots = {}, {}
for i in range(doc.getNumOutputs()):
    o = doc.getOutput(i)
    if o.getTypeCode() == S.SEDML_OUTPUT_REPORT:
        reports[o.getId()] = [[o.getDataSet(j).getLabel(), o.getDataSet(j).getDataReference()]
                              for j in range(o.getNumDataSets())]
    elif o.getTypeCode() == S.SEDML_OUTPUT_PLOT2D:
        plots[o.getId()] = [[o.getCurve(j).getName(), o.getCurve(j).getXDataReference(),
                             o.getCurve(j).getYDataReference()] for j in range(o.getNumCurves())]
print(json.dumps({"errors": errors, "level": doc.getLevel(), "version": doc.getVersion(),
                  "models": models, "sims": sims, "tasks": tasks, "generators": generators,
                  "reports": reports, "plots": plots}))
"""


def _read_sedml(text: str) -> dict:
    """What libsedml (in a child process) reads from ``text``; asserts it reports no errors."""
    if importlib.util.find_spec("libsedml") is None:
        pytest.skip("needs python-libsedml (nncrn[test-interop])")
    done = subprocess.run([sys.executable, "-c", _READ_SEDML], input=text, text=True,
                          capture_output=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["errors"] == []
    return doc


def _scaled_ajd() -> ReactionNetwork:
    """AJD 2-3-2 network with input ranges and an input scale, so both enter the changes."""
    rng = np.random.default_rng(3)
    net = ajd_network([rng.normal(size=(3, 2)), rng.normal(size=(2, 3)) / 2],
                      [np.array([0.2, -0.3, 0.1]), np.array([0.1, -0.05])], 0.01,
                      input_range=(-1.0, 2.0))  # fmt: skip
    species = [Species(s.name, s.role, s.initial, s.input_range, 0.5 if s.name == "X1" else 1.0)
               for s in net.species]  # fmt: skip
    readout = [Readout("diff", "Y2_0", "Y2_1"), Readout("first", "Y2_0")]
    return ReactionNetwork(species, net.reactions, readout, dict(net.metadata))


def _dual_rail() -> ReactionNetwork:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[2.0, -1.0], [1.0, 1.0], [-1.0, 3.0]]))
        model[0].bias.copy_(torch.tensor([0.1, -0.2, 0.0]))
        model[2].weight.copy_(torch.tensor([[1.0, -2.0, 1.0], [-1.0, 1.0, 2.0]]))
        model[2].bias.zero_()
    return nncrn.compile_network(model, scheme=nncrn.DualRail())


def _species_id(target: str) -> str:
    found = re.fullmatch(
        r"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species\[@id='([^']+)'\](/@\w+)?", target
    )
    assert found is not None, target
    return found.group(1)


def _changes(model: dict) -> dict[str, float]:
    assert all(target.endswith("/@initialConcentration") for target, _ in model["changes"])
    return {_species_id(target): float(value) for target, value in model["changes"]}


def _run_report(sbml: str, doc: dict, report_id: str = "report_time_course") -> dict:
    """Run every task a report uses in libRoadRunner as the SED-ML says; ``{label: column}``.

    Only what the document states is used: the model's attribute changes, the simulation's
    times and tolerances, the variables' targets and each data generator's math.
    """
    roadrunner = pytest.importorskip("roadrunner")
    results: dict[str, dict[str, np.ndarray]] = {}

    def run(task_id: str) -> dict[str, np.ndarray]:
        if task_id in results:
            return results[task_id]
        model_id, sim_id = doc["tasks"][task_id]
        model, sim = doc["models"][model_id], doc["sims"][sim_id]
        assert model["language"] == "urn:sedml:language:sbml.level-3.version-2"
        rr = roadrunner.RoadRunner(sbml)
        if sim["type"] == "steady":
            # dual-rail networks conserve sums of species: without the reduction the
            # Jacobian is singular and the Newton solver gives up
            rr.conservedMoietyAnalysis = True
        for species, value in _changes(model).items():
            rr.setValue(f"init([{species}])", value)
        rr.reset()
        names = [f"[{s}]" for s in rr.model.getFloatingSpeciesIds()
                 + rr.model.getBoundarySpeciesIds()]  # fmt: skip
        if sim["type"] == "uniform":
            assert sim["kisao"] == "KISAO:0000019"
            rr.integrator.relative_tolerance = float(sim["params"]["KISAO:0000209"])
            rr.integrator.absolute_tolerance = float(sim["params"]["KISAO:0000211"])
            assert sim["initial"] == sim["start"] == 0.0
            steps = sim["points"]  # L1V3: the number of steps
            data = np.asarray(rr.simulate(0.0, sim["end"], steps + 1, ["time", *names]))
        else:
            assert sim["type"] == "steady" and sim["kisao"] == "KISAO:0000407"
            rr.simulate(0.0, 200.0, 201)  # a root finder alone can land on the wrong root
            rr.steadyState()
            data = np.array([[0.0, *(rr[n] for n in names)]])
        results[task_id] = {"time": data[:, 0]} | {
            n[1:-1]: data[:, i + 1] for i, n in enumerate(names)
        }
        return results[task_id]

    columns = {}
    for label, dg_id in doc["reports"][report_id]:
        dg = doc["generators"][dg_id]
        values = {}
        for var in dg["variables"]:
            state = run(var["task"])
            if var["symbol"] is not None:
                assert var["symbol"] == "urn:sedml:symbol:time"
                values[var["id"]] = state["time"]
            else:
                values[var["id"]] = state[_species_id(var["target"])]
        assert re.fullmatch(r"[\w\s+-]+", dg["formula"]), dg["formula"]  # sums, differences
        columns[label] = eval(dg["formula"], {"__builtins__": {}}, values)
    return columns


def test_sbml_carries_sbo_terms():
    net = _scaled_ajd()
    for kwargs, law in (({}, 163), ({"stochastic_volume": 50.0}, 41)):
        doc = libsbml.readSBMLFromString(to_sbml(net, **kwargs))
        assert doc.checkConsistency() == 0
        model = doc.getModel()
        assert model.getCompartment(0).getSBOTerm() == 290
        assert {model.getSpecies(i).getSBOTerm() for i in range(model.getNumSpecies())} == {247}
        params = [model.getParameter(i) for i in range(model.getNumParameters())]
        rates = [p for p in params if p.getId().startswith("k_r")]
        assert rates and {p.getSBOTerm() for p in rates} == {9}  # rate constants
        # the features the scaled inputs are set from (deterministic export only)
        features = [p for p in params if p.getConstant() and p not in rates]
        assert {p.getSBOTerm() for p in features} == ({196} if not kwargs else set())
        # the readout values (assignment rules): concentration of an entity pool
        assert {p.getSBOTerm() for p in params if not p.getConstant()} == {196}
        assert libsbml.SBO.isQuantitativeParameter(196)
        reactions = [model.getReaction(i) for i in range(model.getNumReactions())]
        assert {r.getSBOTerm() for r in reactions} == {176}
        assert {r.getKineticLaw().getSBOTerm() for r in reactions} == {law}
    assert libsbml.SBO.isRateLaw(163) and libsbml.SBO.isRateLaw(41)
    assert libsbml.SBO.isKineticConstant(9) and libsbml.SBO.isMaterialEntity(247)


def test_sedml_document_one_model_per_row_with_input_concentrations():
    net = _scaled_ajd()
    x = np.array([[0.2, -0.4], [1.5, 2.0], [-1.0, 0.0]])
    doc = _read_sedml(to_sedml(net, x, t_end=80.0, n_points=41))
    assert (doc["level"], doc["version"]) == (1, 3)
    conc = input_concentrations(net, x)
    assert conc[1, 1] == (2.0 + 1.0) * 0.5  # (feature - low) * input_scale
    assert len(doc["models"]) == 3 and len(doc["tasks"]) == 3
    for k in range(3):
        model = doc["models"][f"model_row{k}"]
        assert model["source"] == "model.xml"
        assert _changes(model) == dict(zip(net.inputs, conc[k], strict=True))  # exact
        assert doc["tasks"][f"task_row{k}"] == [f"model_row{k}", "time_course"]
    sim = doc["sims"]["time_course"]
    assert sim["type"] == "uniform" and sim["end"] == 80.0 and sim["points"] == 40
    labels = [label for label, _ in doc["reports"]["report_time_course"]]
    assert labels == ["time"] + [f"{n} [row {k}]" for k in range(3) for n in ("diff", "first")]
    assert len(doc["plots"]["plot_readouts"]) == 6
    assert doc["plots"]["plot_readouts"][5] == ["first [row 2]", "time_row2", "task_row2_out1"]
    assert doc["generators"]["task_row2_out0"]["formula"] == (
        "task_row2_out0_plus - task_row2_out0_minus"
    )
    assert doc["generators"]["task_row2_out1"]["formula"] == "task_row2_out1_plus"


def test_sedml_without_inputs_runs_the_sbml_as_written_and_steady_state_is_optional():
    net = _scaled_ajd()
    doc = _read_sedml(to_sedml(net, plot=False))
    assert list(doc["models"]) == ["model"] and doc["models"]["model"]["changes"] == []
    assert list(doc["reports"]) == ["report_time_course"] and doc["plots"] == {}
    assert list(doc["sims"]) == ["time_course"]
    doc = _read_sedml(to_sedml(net, [[0.0, 0.0]], steady_state=True))
    steady = doc["sims"]["steady_state"]
    assert steady["type"] == "steady" and steady["kisao"] == "KISAO:0000407"
    assert doc["tasks"]["steady_row0"] == ["model_row0", "steady_state"]
    assert len(doc["reports"]["report_steady_state"]) == 2


def test_readout_names_are_escaped_exactly():
    name = 'a&amp;b <"c">\tq\nz'
    net = ReactionNetwork([Species("P", "output"), Species("M", "output")],
                          [Reaction.parse("0 -> P", 1.0), Reaction.parse("P + M -> 0", 3.0)],
                          [Readout(name, "P", "M")])  # fmt: skip
    doc = _read_sedml(to_sedml(net))
    assert doc["reports"]["report_time_course"][1] == [name, "task_out0"]
    assert doc["generators"]["task_out0"]["name"] == name
    assert doc["plots"]["plot_readouts"][0][0] == name


def test_sedml_never_imports_libsedml():
    # libsedml's bindings would hijack libsbml's ASTNode in this process (see the module)
    code = ("import sys, numpy as np; from nncrn.export import to_sedml, to_omex;"
            "from nncrn.network import ReactionNetwork, Species, Reaction;"
            "net = ReactionNetwork([Species('A', 'output')], [Reaction.parse('A -> 0', 1.0)]);"
            "to_sedml(net, steady_state=True); print('libsedml' in sys.modules)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"t_end": 0.0}, "t_end"), ({"t_end": math.inf}, "t_end"), ({"n_points": 1}, "n_points"),
     ({"n_points": 2.5}, "n_points"), ({"rtol": -1.0}, "rtol"), ({"model_source": ""}, "model_source"),
     ({"inputs": [[3.0, 0.0]]}, "outside its declared input_range"),
     ({"inputs": [0.0, 0.0]}, "reshape")],
)  # fmt: skip
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        to_sedml(_scaled_ajd(), **kwargs)


def test_network_without_readout_is_refused():
    net = ReactionNetwork([Species("A")], [Reaction.parse("A -> 0", 1.0)])
    with pytest.raises(InputError, match="no readout"):
        to_sedml(net)


def _archive(data: bytes, tmp_path):
    libcombine = pytest.importorskip("libcombine")
    path = tmp_path / "run.omex"
    path.write_bytes(data)
    archive = libcombine.CombineArchive()
    assert archive.initializeFromArchive(str(path))
    return archive


def test_omex_archive_has_manifest_sbml_and_master_sedml(tmp_path):
    pytest.importorskip("libcombine")
    net = _scaled_ajd()
    data = to_omex(net, [[0.5, 1.0]])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["manifest.xml", "model.xml", "simulation.sedml"]
        assert 'location="." format="http://identifiers.org/combine.specifications/omex"' in (
            zf.read("manifest.xml").decode()
        )
    archive = _archive(data, tmp_path)
    try:
        entries = {archive.getEntry(i).getLocation(): archive.getEntry(i)
                   for i in range(archive.getNumEntries())}  # fmt: skip
        assert entries["model.xml"].getFormat() == _SPEC + "sbml.level-3.version-2"
        assert entries["simulation.sedml"].getFormat() == _SPEC + "sed-ml.level-1.version-3"
        assert archive.getMasterFile().getLocation() == "simulation.sedml"
        sbml = archive.extractEntryToString("model.xml")
        # the SBML of to_sbml, without the feature parameters whose initial assignments
        # would override the runs' species values
        assert sbml == to_sbml(net, feature_parameters=False) != to_sbml(net)
        assert "initialAssignment" not in sbml
        doc = _read_sedml(archive.extractEntryToString("simulation.sedml"))
        assert doc["models"]["model_row0"]["source"] == "model.xml"
    finally:
        archive.cleanUp()


@pytest.mark.parametrize("which", ["ajd", "dual_rail"])
def test_roadrunner_runs_the_archive_and_matches_integrate(which, tmp_path):
    pytest.importorskip("roadrunner")
    pytest.importorskip("libcombine")
    net = _scaled_ajd() if which == "ajd" else _dual_rail()
    rng = np.random.default_rng(11)
    if which == "ajd":
        x = rng.uniform(-1.0, 2.0, size=(3, 2))
    else:
        x = rng.uniform(0.0, 1.0, size=(3, len(net.inputs)))
    t_end = 60.0
    archive = _archive(to_omex(net, x, t_end=t_end, n_points=31, steady_state=True), tmp_path)
    try:
        sbml = archive.extractEntryToString("model.xml")
        doc = _read_sedml(archive.extractEntryToString("simulation.sedml"))
    finally:
        archive.cleanUp()
    theirs = _run_report(sbml, doc)
    times = np.linspace(0.0, t_end, 31)
    np.testing.assert_allclose(theirs["time"], times, rtol=1e-12)
    traj = nncrn.integrate(net, x, times, solver=nncrn.ScipyODE(rtol=1e-11, atol=1e-14))
    for k in range(x.shape[0]):
        for j, name in enumerate(net.outputs):
            np.testing.assert_allclose(theirs[f"{name} [row {k}]"], traj.outputs[k, :, j],
                                       rtol=1e-6, atol=1e-7)  # fmt: skip
    steady = _run_report(sbml, doc, "report_steady_state")
    final = traj.outputs[:, -1, :]
    for k in range(x.shape[0]):
        for j, name in enumerate(net.outputs):
            assert steady[f"{name} [row {k}]"][0] == pytest.approx(final[k, j], rel=1e-4, abs=1e-5)


def test_cli_writes_an_omex_archive_with_one_run_per_csv_row(tmp_path):
    pytest.importorskip("libcombine")
    net = _scaled_ajd()
    net.save(tmp_path / "net.json")
    (tmp_path / "X.csv").write_text("X0,X1\n0.5,1.0\n-1,2\n", encoding="utf-8")
    out = tmp_path / "run.omex"
    args = ["export", str(tmp_path / "net.json"), "-o", str(out), "--inputs",
            str(tmp_path / "X.csv"), "--t-end", "30", "--steady"]  # fmt: skip
    assert main(args) == 0
    archive = _archive(out.read_bytes(), tmp_path)
    try:
        doc = _read_sedml(archive.extractEntryToString("simulation.sedml"))
    finally:
        archive.cleanUp()
    assert len(doc["models"]) == 2
    assert doc["sims"]["time_course"]["end"] == 30.0
    assert doc["sims"]["steady_state"]["type"] == "steady"
    conc = input_concentrations(net, [[-1.0, 2.0]])[0]
    assert list(_changes(doc["models"]["model_row1"]).values()) == conc.tolist()


def test_cli_omex_options_need_the_omex_format(tmp_path, capsys):
    net = _scaled_ajd()
    net.save(tmp_path / "net.json")
    assert main(["export", str(tmp_path / "net.json"), "-o", str(tmp_path / "m.xml"),
                 "--t-end", "5"]) == 2  # fmt: skip
    assert "--t-end" in capsys.readouterr().err
    (tmp_path / "a.omex").write_bytes(b"PK")
    assert main(["import", str(tmp_path / "a.omex"), "-o", str(tmp_path / "n.json")]) == 2
    assert "OMEX archive" in capsys.readouterr().err


def test_cli_writes_the_archive_bytes_to_standard_output(tmp_path, capsysbinary):
    pytest.importorskip("libcombine")
    net = _scaled_ajd()
    net.save(tmp_path / "net.json")
    assert main(["export", str(tmp_path / "net.json"), "--format", "omex", "-o", "-"]) == 0
    data = capsysbinary.readouterr().out
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        doc = _read_sedml(zf.read("simulation.sedml").decode())
    assert list(doc["models"]) == ["model"] and doc["models"]["model"]["changes"] == []
