"""Write notebooks/01..05 (without outputs) from the cells below: ``python scripts/make_notebooks.py``.

The notebooks are the source users read; this script only keeps their shared first cell
identical. Edit a notebook's cells here and re-run it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "notebooks"

SIZE_NOTE = """\
**Size knob.** `FRAUD_JLAB_NOTEBOOK_ROWS` (environment variable, default 284,807, at least
5,000) sets how many rows this notebook works on; CI runs it with a few thousand rows so
the whole notebook takes seconds. Under `fraud-jlab demo` the data set in S3 is sampled down
to that size (stratified, the fraud rate is kept); run standalone, the first cell generates
that many rows.

**Where it runs.** Launched from `fraud-jlab demo`, the kernel already has
`FRAUD_JLAB_TRACKING_URI` (the demo's `runs.db`) and `AWS_ENDPOINT_URL` (the local AWS
emulator). Opened anywhere else, `ensure_local_environment` starts the emulator for this
kernel, creates `runs.db` next to the notebook and seeds both as the demo does."""

SETUP = """\
from fraud_jlab.demo.workspace import ensure_local_environment, notebook_rows

ROWS = notebook_rows()  # FRAUD_JLAB_NOTEBOOK_ROWS
env = ensure_local_environment(ROWS)
df = env.load_data(max_rows=ROWS)
%load_ext fraud_jlab
print(f"{len(df):,} transactions, {int(df['Class'].sum())} frauds ({df['Class'].mean():.3%})")
print("tracker:", env.tracking_uri, "| AWS:", env.aws_endpoint_url)"""

SPLIT = """\
from sklearn.model_selection import train_test_split

features = [c for c in df.columns if c != "Class"]
train, holdout = train_test_split(df, test_size=0.2, stratify=df["Class"], random_state=0)
X_train, y_train = train[features], train["Class"].to_numpy()
X_holdout, y_holdout = holdout[features], holdout["Class"].to_numpy()
print(f"train {len(train):,} rows ({y_train.sum()} frauds), holdout {len(holdout):,} rows ({y_holdout.sum()} frauds)")"""


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip())


def notebook_01() -> list[nbformat.NotebookNode]:
    return [
        md(f"""
# 01 · Data exploration: what 0.17% fraud means for every later choice

Before tuning anything we look at the data the models will see, and settle how models will
be judged. Everything here uses fraud_jlab's public API and ends with a tracked run.

{SIZE_NOTE}"""),
        code(SETUP),
        md("""
## Class balance

About 17 transactions in 10,000 are fraud. A model that never flags anything is right
99.83% of the time, so **accuracy says nothing** here. The numbers below make that concrete."""),
        code("""
import numpy as np
import pandas as pd

counts = df["Class"].value_counts().rename({0: "legitimate", 1: "fraud"})
print(counts.to_string())
print(f"accuracy of 'never fraud': {1 - df['Class'].mean():.4%}")
df.groupby("Class")[["Amount"]].describe().T"""),
        md("""
## Amount and time of day by class

`Time` is seconds since the first transaction (two days). Fraud rates by hour and amount
decile show signal the feature-engineering notebook (04) turns into features."""),
        code("""
by_hour = df.assign(hour=(df["Time"] // 3600 % 24).astype(int)).groupby("hour")["Class"].agg(["size", "mean"])
by_hour.columns = ["transactions", "fraud_rate"]
amount_decile = pd.qcut(df["Amount"], 10, duplicates="drop")
pd.concat(
    {"fraud rate by amount decile": df.groupby(amount_decile, observed=True)["Class"].mean()}, axis=1
)"""),
        code("""
import plotly.express as px

px.histogram(
    df.assign(label=df["Class"].map({0: "legitimate", 1: "fraud"})),
    x="Amount", color="label", histnorm="probability density", nbins=60, log_y=True,
    barmode="overlay", title="Amount by class (density, log scale)",
)"""),
        md("""
## How models will be judged

- **Average precision (AP)** summarises the precision-recall curve. A model ranking at
  random scores AP equal to the fraud rate (0.0017), so AP has an honest floor, unlike
  ROC AUC, which looks excellent (0.95+) for models that are useless at the alert volumes
  an investigations team can handle.
- **Recall at a fixed false-positive rate** (0.1% by default): the share of frauds caught
  when at most 1 in 1,000 legitimate transactions is flagged, which is the operating
  constraint the team actually has.
- **Confidence intervals**: a holdout of 57,000 rows holds only ~98 frauds, so one more or
  one fewer caught fraud moves recall by a full point. Every metric is reported with a
  bootstrap CI; differences smaller than the interval are not evidence.

A first, deliberately simple model (logistic regression on the raw columns) shows the
scale: its AP is far above the 0.0017 floor, and the CI shows how precisely we know it."""),
        code(SPLIT),
        code("""
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fraud_jlab import Run
from fraud_jlab.evaluation import ModelEvaluator

model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, class_weight="balanced"))
model.fit(X_train, y_train)
evaluator = ModelEvaluator(n_bootstrap=200, random_state=0)
with Run(experiment_name="fraud-data-exploration", run_name="logistic-baseline") as run:
    run.log_parameters({"model": "logistic_regression", "class_weight": "balanced", "rows": len(df)})
    run.log_dataset(train, "training")
    run.log_dataset(holdout, "holdout")
    result = evaluator.evaluate_model(model, X_holdout, y_holdout, run=run)
print("tracked run", run.run_id)
{k: result["metrics"][k] for k in ("average_precision", "recall_at_fpr", "auc_roc", "accuracy")}"""),
        code("""
pd.DataFrame(result["confidence_intervals"]).T"""),
        md("""
The run is now in the tracker: the **Fraud Experiments** sidebar lists it, and so does
`%fraud runs`."""),
        code("""
%fraud runs --filter "experiment = 'fraud-data-exploration'" """),
    ]


def notebook_02() -> list[nbformat.NotebookNode]:
    return [
        md(f"""
# 02 · Hyperparameter tuning: cross-validate on training rows, report once on the holdout

We search XGBoost's hyperparameters with Optuna (Bayesian search with pruning), watch it
live in a `TuningMonitor`, and refit the winner. Selection uses **cross-validation on the
training rows only**; the holdout is scored exactly once, by the refitted model, so its
number is not flattered by having picked the best of many tries on it.

{SIZE_NOTE}

`FRAUD_JLAB_NOTEBOOK_TRIALS` (default 20) sets the number of trials."""),
        code(SETUP),
        code(SPLIT),
        md("""
## The search

The objective is **average precision** (see notebook 01: at 0.17% fraud, accuracy and
ROC AUC cannot separate good from useless models). Folds are stratified so each one keeps
its share of the few frauds. Each trial becomes a child run of one tuning run; the monitor
updates from the search's `on_trial` callback, so the kernel is not blocked polling."""),
        code("""
import os

from fraud_jlab.tuning import SEARCH_SPACE, bayesian_search
from fraud_jlab.widgets import TuningMonitor

TRIALS = int(os.environ.get("FRAUD_JLAB_NOTEBOOK_TRIALS", "20"))
print({name: (spec.low, spec.high) for name, spec in SEARCH_SPACE.items() if spec.kind != "Categorical"})
monitor = TuningMonitor("XGBoost, Bayesian search")
monitor"""),
        code("""
search = bayesian_search(
    X_train, y_train, n_trials=TRIALS, n_splits=3, n_startup_trials=min(5, TRIALS),
    seed=0, n_jobs=1, experiment_name="fraud-detection-optimization",
    run_name="notebook-bayesian-tuning", on_trial=monitor,
)
print(f"best CV average precision {search.best_score:.4f} with {search.best_params}")
search.trials.head(10)"""),
        md("""
## Refit and report

`refit_best` trains the best configuration on all training rows and evaluates it once on
the holdout, with bootstrap CIs and a decision threshold chosen on a validation part of the
holdout (a threshold picked on the same rows it is reported on would overstate recall).
The refit is a child run of the search, with its model: it is what notebook 05 can promote."""),
        code("""
from fraud_jlab.evaluation import ModelEvaluator
from fraud_jlab.tuning import refit_best

refit = refit_best(
    search.parent_run_id, X_train, y_train, X_holdout, y_holdout,
    run_name="notebook-bayesian-refit", evaluator=ModelEvaluator(n_bootstrap=200, random_state=0),
    n_jobs=1,
)
print("tracked run", refit.run_id, "| CV AP", round(refit.cv_score or 0, 4), "-> holdout AP", round(refit.metrics["average_precision"], 4))
{name: ci for name, ci in refit.confidence_intervals.items() if name in ("average_precision", "recall_at_fpr")}"""),
        code("""
%fraud runs --filter "parent_run_id = '{search.parent_run_id}'" --order-by "metrics.mean_average_precision DESC" --max-results 5"""),
    ]


def notebook_03() -> list[nbformat.NotebookNode]:
    return [
        md(f"""
# 03 · Algorithm comparison: same split, paired differences

XGBoost, LightGBM, a random forest and a small neural network, trained on the same
training rows and scored on the same holdout rows. Because every model sees the same
holdout, we compare them **paired**: the bootstrap resamples holdout rows once and computes
both models' metrics on each resample, so the shared luck of which frauds landed in the
holdout cancels out. The paired CI of a difference is much narrower than comparing two
separate CIs, and it is the right question: "is B better than A on these transactions?"

{SIZE_NOTE}"""),
        code(SETUP),
        code(SPLIT),
        code("""
from fraud_jlab.comparison import compare_algorithms

result = compare_algorithms(
    X_train, y_train, X_holdout, y_holdout,
    algorithms=["XGBoost", "LightGBM", "RandomForest", "NeuralNetwork"],
    experiment_name="algorithm-comparison", n_bootstrap=200, n_jobs=1,
)
for note in result.notes:
    print("note:", note)
result.table"""),
        code("""
result.figure"""),
        md("""
## Paired deltas against XGBoost

Each algorithm's run stored its holdout scores, so `compare_runs` can pair them. A delta
whose CI contains zero is not a difference we can claim."""),
        code("""
import pandas as pd

from fraud_jlab.comparison import compare_runs

report = compare_runs(list(result.runs.values()), baseline_run_id=result.runs["XGBoost"], n_bootstrap=200)
pd.DataFrame([d.model_dump() for d in report.deltas if d.metric in ("average_precision", "recall_at_fpr")])"""),
        md("""
The same comparison as an interactive dashboard (curves, CIs, deltas), and from the magic:"""),
        code("""
from fraud_jlab.widgets import ComparisonDashboard

ComparisonDashboard(list(result.runs.values()), baseline=result.runs["XGBoost"])"""),
        code("""
runs = " ".join(result.runs.values())
%fraud compare {runs}"""),
        code("""
print("tracked runs:", result.runs)"""),
    ]


def notebook_04() -> list[nbformat.NotebookNode]:
    return [
        md(f"""
# 04 · Feature engineering: time and amount features, selection fitted on training rows

Notebook 01 showed that fraud rates vary with hour of day and amount. Here we turn that
into features, select features **on the training rows only** (selecting on all rows leaks
the holdout's labels into the model), and check whether the engineered model is better with
a paired comparison on the same holdout.

{SIZE_NOTE}"""),
        code(SETUP),
        code("""
from fraud_jlab.features import FeatureEngineer

engineer = FeatureEngineer(random_state=0, n_jobs=1)
enriched = engineer.create_amount_features(engineer.create_time_features(df))
enriched = engineer.create_interaction_features(enriched, [("V14", "Amount"), ("V17", "V12")])
new_columns = [c for c in enriched.columns if c not in df.columns]
print(len(new_columns), "new columns:", new_columns)
enriched[new_columns].head()"""),
        code("""
from sklearn.model_selection import train_test_split

numeric = [c for c in enriched.columns if c != "Class" and enriched[c].dtype.kind in "biuf"]
train, holdout = train_test_split(enriched, test_size=0.2, stratify=enriched["Class"], random_state=0)
y_train, y_holdout = train["Class"].to_numpy(), holdout["Class"].to_numpy()
raw = [c for c in df.columns if c != "Class"]"""),
        md("""
## Selection on training rows only

`FeatureSelector` learns which columns to keep from the training rows; the holdout is only
transformed. Importances from a random forest show what the engineered columns add."""),
        code("""
from fraud_jlab.features import FeatureSelector

selector = FeatureSelector("univariate", k=min(25, len(numeric)), random_state=0, n_jobs=1)
X_train_sel = selector.fit_transform(train[numeric], y_train)
X_holdout_sel = selector.transform(holdout[numeric])
print(len(X_train_sel.columns), "selected:", list(X_train_sel.columns))
engineer.analyze_feature_importance(train[numeric], y_train, n_estimators=50).head(10)"""),
        md("""
## Raw vs engineered, same model, same holdout

Both runs use the same XGBoost settings; only the columns differ. Thresholds are chosen on
a validation part of the holdout and recall is reported on the rest (see 02)."""),
        code("""
from xgboost import XGBClassifier

from fraud_jlab import Run
from fraud_jlab.evaluation import ModelEvaluator

evaluator = ModelEvaluator(n_bootstrap=200, random_state=0)
params = {"objective": "binary:logistic", "num_round": 100, "max_depth": 5, "eta": 0.2, "subsample": 0.8, "colsample_bytree": 0.8}
run_ids = {}
for name, X_tr, X_ho in (("raw-features", train[raw], holdout[raw]), ("engineered-features", X_train_sel, X_holdout_sel)):
    model = XGBClassifier(n_estimators=100, max_depth=5, learning_rate=0.2, subsample=0.8, colsample_bytree=0.8,
                          tree_method="hist", n_jobs=1, random_state=0)
    model.fit(X_tr, y_train)
    with Run(experiment_name="feature-engineering", run_name=name) as run:
        run.log_parameters(params | {"n_features": X_tr.shape[1]})
        run.log_dataset(X_tr.assign(Class=y_train), "training")
        # same rows for both runs: the holdout's index identifies them, so the runs pair
        out = evaluator.evaluate_model(model, X_ho, y_holdout, run=run, row_ids=holdout.index.to_numpy())
        run.log_model(model, X_tr)
    run_ids[name] = run.run_id
    print(name, "AP", round(out["metrics"]["average_precision"], 4), "tracked run", run.run_id)"""),
        code("""
import pandas as pd

from fraud_jlab.comparison import compare_runs

report = compare_runs([run_ids["raw-features"], run_ids["engineered-features"]], baseline_run_id=run_ids["raw-features"], n_bootstrap=200)
pd.DataFrame([d.model_dump() for d in report.deltas if d.metric in ("average_precision", "recall_at_fpr", "auc_roc")])"""),
    ]


def notebook_05() -> list[nbformat.NotebookNode]:
    return [
        md(f"""
# 05 · Production promotion: gates, dry run, reason, confirmation, ledger, rollback

Production is the SageMaker pipeline's hyperparameters in Parameter Store plus
`production-model-config.yaml` in S3. A promotion writes both all-or-nothing under an S3
lock and appends a record to an append-only ledger, after **gates** the run must pass:
accuracy, an average-precision floor relative to the holdout's fraud rate, recall at the
gate FPR, and paired non-inferiority against the model in production.

{SIZE_NOTE}"""),
        code(SETUP),
        code("""
%fraud production"""),
        md("""
## A candidate scored on production's holdout

The paired gate compares the candidate's and the production model's scores **row by row
on the same holdout**; runs scored on different rows are refused (a difference between two
holdouts is mostly the luck of the split). The demo's production model was evaluated on
the stratified 20% of the data set in S3 split with seed 0, so the candidate uses exactly
that split (all rows: no sampling here)."""),
        code("""
import os

from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from fraud_jlab import Run, get_run
from fraud_jlab.evaluation import ModelEvaluator
from fraud_jlab.promotion import ProductionIntegrator

data = env.load_data()  # production's holdout is a split of the full data set
features = [c for c in data.columns if c != "Class"]
train, holdout = train_test_split(data, test_size=0.2, stratify=data["Class"], random_state=0)
production_run = get_run(ProductionIntegrator().production_run_id())
params = {k: production_run.params[k] for k in ("objective", "num_round", "max_depth", "eta", "subsample", "colsample_bytree")}
print("production run", production_run.run_name, params)"""),
        code("""
params = params | {"num_round": int(params["num_round"]) + 50}  # the candidate: 50 more rounds
model = XGBClassifier(
    n_estimators=int(params["num_round"]), max_depth=int(params["max_depth"]), learning_rate=float(params["eta"]),
    subsample=float(params["subsample"]), colsample_bytree=float(params["colsample_bytree"]),
    tree_method="hist", n_jobs=1, random_state=0,
)
model.fit(train[features], train["Class"])
with Run(experiment_name="fraud-detection-optimization", run_name="notebook-candidate") as run:
    run.log_parameters(params)
    run.log_dataset(train, "training")
    result = ModelEvaluator(n_bootstrap=200, random_state=0).evaluate_model(model, holdout[features], holdout["Class"], run=run)
    run.log_model(model, train[features])
candidate = run.run_id
print("tracked run", candidate, "AP", round(result["metrics"]["average_precision"], 4))"""),
        md("""
## Dry run: the gates and the diff, nothing written

Every ledger record names the person who approved it: `FRAUD_JLAB_APPROVER` (set it
before starting `fraud-jlab demo`), else the JupyterHub user or SageMaker Studio profile.
When none is set the next cell asks for your name; production changes are refused
without one (dry runs work without)."""),
        code("""
if not os.environ.get("FRAUD_JLAB_APPROVER"):
    os.environ["FRAUD_JLAB_APPROVER"] = input("Your name, recorded as the approver: ").strip()
plan = %fraud promote {candidate} --dry-run
assert plan.gates_passed, "a gate failed: see the table above"
"""),
        md("""
## Promote, with a reason and a confirmation

Without `--yes` the magic asks for a typed confirmation; this notebook confirms on the
command line because it is also executed unattended in CI. The widget equivalent is
`PromotePanel(run_id)` (or the Promote button of `fraud_jlab.dashboard()`), which refuses
without a reason exactly as the sidebar does."""),
        code("""
record = %fraud promote {candidate} --reason "notebook 05: 50 more boosting rounds, AP non-inferior" --yes"""),
        code("""
%fraud promotions"""),
        md("""
## Roll back

Undo the promotion: the state before it is restored from the backup the promotion took,
again all-or-nothing and recorded in the ledger."""),
        code("""
rollback = %fraud rollback {record.promotion_id} --target before --reason "notebook 05: demonstrate rollback" --yes
view = %fraud production
assert ProductionIntegrator().production_run_id() == production_run.run_id
%fraud promotions"""),
    ]


NOTEBOOKS = {
    "01_data_exploration.ipynb": notebook_01,
    "02_hyperparameter_tuning.ipynb": notebook_02,
    "03_algorithm_comparison.ipynb": notebook_03,
    "04_feature_engineering.ipynb": notebook_04,
    "05_production_promotion.ipynb": notebook_05,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells())
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"
        nbformat.validate(nb)
        (OUT / name).write_text(nbformat.writes(nb) + "\n")


if __name__ == "__main__":
    main()
