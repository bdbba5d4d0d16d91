"""The five tutorial notebooks run top to bottom (nbclient), each in a fresh directory.

Every notebook starts its own local AWS emulator (moto server) and ``runs.db`` through
``ensure_local_environment``, as it does when opened outside ``fraud-jlab demo``; one more
case runs 01 the way the demo launches it (tracker and emulator prepared beforehand, their
variables in the kernel's environment). ``FRAUD_JLAB_NOTEBOOK_ROWS`` keeps them small.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from fraud_jlab.demo import workspace
from fraud_jlab.demo.emulator import start_emulator
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
NAMES = (
    "01_data_exploration.ipynb",
    "02_hyperparameter_tuning.ipynb",
    "03_algorithm_comparison.ipynb",
    "04_feature_engineering.ipynb",
    "05_production_promotion.ipynb",
)
#: Rows per notebook. 05's paired gate needs a holdout with enough frauds to bound the
#: AP difference within the allowed drop (7 frauds at 20,000 rows; 3 at 10,000 are too few).
ROWS = {"05_production_promotion.ipynb": 20_000}
DEFAULT_ROWS = 10_000
#: The tracked run each notebook ends with (a filter in the tracker's grammar).
TRACKED = {
    "01_data_exploration.ipynb": "run_name = 'logistic-baseline'",
    "02_hyperparameter_tuning.ipynb": "run_name = 'notebook-bayesian-refit'",
    "03_algorithm_comparison.ipynb": "experiment = 'algorithm-comparison'",
    "04_feature_engineering.ipynb": "run_name = 'engineered-features'",
    "05_production_promotion.ipynb": "run_name = 'notebook-candidate'",
}


def _kernel_env(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    for key in list(os.environ):
        if key.startswith(("AWS_", "FRAUD_JLAB_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FRAUD_JLAB_NOTEBOOK_ROWS", str(rows))
    monkeypatch.setenv("FRAUD_JLAB_NOTEBOOK_TRIALS", "3")
    monkeypatch.setenv("FRAUD_JLAB_APPROVER", "Notebook Test")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    # the kernel imports this checkout's fraud_jlab
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(REPO), path) if p))


def _execute(name: str, folder: Path) -> nbformat.NotebookNode:
    shutil.copyfile(NOTEBOOKS / name, folder / name)
    nb = nbformat.read(folder / name, as_version=4)
    started = time.monotonic()
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()  # raises CellExecutionError on the first failing cell
    print(f"{name}: {time.monotonic() - started:.1f} s")
    return nb


def _tracked(folder: Path, where: str) -> int:
    store = SqliteTrackerStore(folder / "runs.db")
    try:
        return store.search_runs(f"{where} and status = 'completed'").total
    finally:
        store.close()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_standalone(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kernel_env(monkeypatch, ROWS.get(name, DEFAULT_ROWS))
    nb = _execute(name, tmp_path)
    assert _tracked(tmp_path, TRACKED[name]) >= 1
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    if name.startswith("05"):
        text = "".join(o.get("text", "") for o in outputs)
        assert "[FAIL]" not in text
        # promoted and rolled back, both recorded with the approver
        assert text.count("approver Notebook Test") >= 2


def test_notebook_runs_under_the_demo_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kernel_env(monkeypatch, DEFAULT_ROWS)
    with start_emulator() as emulator:
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
        environ: dict[str, str] = {}
        # prepare_workspace sets os.environ itself: record the value to restore first
        # (a setenv records "absent" for monkeypatch to restore; a delenv of an absent key does not)
        monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", "replaced-by-prepare-workspace")
        workspace.prepare_workspace(
            tmp_path, DEFAULT_ROWS, environ, say=lambda _m: None, baseline_only=True
        )
        monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", environ["FRAUD_JLAB_TRACKING_URI"])
        before = _tracked(tmp_path, "run_name != ''")
        nb = _execute(NAMES[0], tmp_path)
    setup = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert "started the local AWS emulator" not in setup  # it used the demo's
    assert emulator.endpoint_url in setup
    assert _tracked(tmp_path, TRACKED[NAMES[0]]) == 1
    assert _tracked(tmp_path, "run_name != ''") == before + 1


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    nb = json.loads((NOTEBOOKS / name).read_text())
    nbformat.validate(nbformat.from_dict(nb))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    first = nb["cells"][0]["source"]
    assert "FRAUD_JLAB_NOTEBOOK_ROWS" in "".join(first)


def test_copy_notebooks_keeps_edited_copies(tmp_path: Path) -> None:
    names = [p.name for p in workspace.notebook_sources()]
    assert set(NAMES) <= set(names)
    edited = tmp_path / NAMES[0]
    edited.write_text("{}")
    written = workspace.copy_notebooks(tmp_path)
    assert edited.read_text() == "{}"  # the user's copy is not overwritten
    assert sorted(p.name for p in written) == sorted(n for n in names if n != NAMES[0])
    assert (tmp_path / NAMES[4]).read_bytes() == (NOTEBOOKS / NAMES[4]).read_bytes()
    assert workspace.copy_notebooks(tmp_path) == []


def test_demo_lab_opens_the_first_notebook(tmp_path: Path) -> None:
    from fraud_jlab.demo import cli

    args = cli.build_parser().parse_args(["demo", "--no-browser", "--workdir", str(tmp_path)])
    assert not [a for a in cli._lab_command(args, tmp_path, "t") if "default_url" in a]
    workspace.copy_notebooks(tmp_path)
    command = cli._lab_command(args, tmp_path, "t")
    assert f"--LabApp.default_url=/lab/tree/{NAMES[0]}" in command
    assert NAMES[0] == cli.FIRST_NOTEBOOK


def test_the_wheel_ships_the_notebooks_where_the_demo_looks() -> None:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    force = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["notebooks"] == "fraud_jlab/notebooks"
    # an installed wheel has fraud_jlab/notebooks; notebook_sources looks there first
    assert (REPO / "fraud_jlab" / "notebooks").resolve() == (
        Path(workspace.__file__).resolve().parent.parent / "notebooks"
    )
    test_extras = " ".join(config["project"]["optional-dependencies"]["test"])
    assert all(name in test_extras for name in ("nbclient", "nbformat", "ipykernel"))
