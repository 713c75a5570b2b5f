"""original_notebook: the original notebook's code as written, checked against the notebook's text.

The notebook's text ships beside the package (``recommender_systems_notebook.txt``).
Two checks keep the package verbatim: every line of code in its functions
and class occurs in the notebook, unless it says ``# deviation:``; and every
code line of the notebook's model cells occurs in the package, unless it is
one of the few lines listed here as replaced. The rest checks that the code
runs and keeps its bugs.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import original_notebook
from original_notebook import dense_mf, recommender_net
from recsys_ref.data import make_synthetic_ratings, to_dense

NOTEBOOK = Path(original_notebook.__file__).with_name("recommender_systems_notebook.txt")

WRAPPERS = [
    dense_mf.read_ratings_matrix,
    dense_mf.train_dense_mf,
    recommender_net.make_batches,
    recommender_net.train,
    recommender_net.evaluate,
]

#: Notebook lines the package replaces (each replacement is marked "# deviation:") or turns into arguments.
REPLACED = {
    "ratings = pd.read_csv('ratings_mat.csv')",
    "ratings = pd.read_csv('ratings.csv')",
    "epochs = 250",
    "epochs = 100",
    "n_factors = 50",
    "logging_rate = 10",
    "batch_sz = 128",
    "device = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
    "batches.append((torch.tensor(users_batch, dtype=torch.long).to(device),",
    "torch.tensor(movies_batch, dtype=torch.long).to(device),",
    "torch.tensor(rates_batch, dtype=torch.float).to(device)))",
    "n_users, n_movies = estimated.shape",
    "estimated = pd.DataFrame(estimated, columns=list(range(1, n_movies + 1)),",
    "index=list(range(1, n_users + 1)))",
    'estimated.to_csv("answer_ratings.csv")',
    "print(ratings[:5])",
}
OUTPUT_PREFIXES = ("Loss at epoch", "Last Loss", "Average loss", "Accuracy", "tensor(", "[")


def notebook_cells() -> dict[int, list[str]]:
    """The code lines (stripped, non-empty) of each ``In [n]:`` cell of the notebook's text."""
    text = NOTEBOOK.read_text(encoding="utf-8")
    cells = {}
    for number, body in re.findall(
        r"^In \[(\d+)\]:\n(.*?)(?=^In \[\d+\]:|\Z)", text, flags=re.M | re.S
    ):
        code = re.split(r"^#{2,} ", body, flags=re.M)[0]  # a markdown heading ends the cell
        cells[int(number)] = [
            line.strip()
            for line in code.splitlines()
            if line.strip() and not line.strip().startswith(OUTPUT_PREFIXES)
        ]
    return cells


def package_code_lines(obj) -> list[str]:
    """The code lines of a wrapper's body (or of the whole class), minus its docstring and deviations.

    A deviation is a line ending in ``# deviation: ...``, a statement right
    below a ``# deviation: ...`` comment, or an ``if`` block whose header says so.
    """
    source = textwrap.dedent(inspect.getsource(obj))
    node = ast.parse(source).body[0]
    lines = source.splitlines()
    skip: set[int] = set()
    if isinstance(node, ast.FunctionDef):
        skip |= set(range(node.lineno, node.body[0].lineno))  # the def line(s)
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skip |= set(range(first.lineno, first.end_lineno + 1))  # our docstring
    for statement in ast.walk(node):
        if not isinstance(statement, ast.stmt):
            continue
        marked_if = isinstance(statement, ast.If) and "# deviation:" in lines[statement.lineno - 1]
        marked_above = statement.lineno >= 2 and lines[statement.lineno - 2].strip().startswith(
            "# deviation:"
        )
        if marked_if or marked_above:
            skip |= set(
                range(statement.lineno, statement.end_lineno + 1)
            )  # a deviation's whole statement
    return [
        line.strip()
        for number, line in enumerate(lines, start=1)
        if number not in skip and line.strip() and "# deviation:" not in line
    ]


def test_the_notebook_text_ships_with_the_package():
    cells = notebook_cells()
    assert {16, 17, 18, 20, 21, 22, 23} <= set(cells)
    assert "optimizer = optim.SGD(params=(user_factors, movies_factors), lr=0.01)" in cells[17]


@pytest.mark.parametrize(
    "obj", [*WRAPPERS, recommender_net.RecommenderNet], ids=lambda obj: obj.__name__
)
def test_every_line_of_the_package_is_the_notebooks(obj):
    notebook_lines = {line for lines in notebook_cells().values() for line in lines}
    invented = [line for line in package_code_lines(obj) if line not in notebook_lines]
    assert not invented, (
        f"{obj.__name__} has lines that are not in the notebook (mark them '# deviation:'): {invented}"
    )


def test_every_line_of_the_notebooks_model_cells_is_in_the_package():
    package_lines = {
        line
        for obj in [*WRAPPERS, recommender_net.RecommenderNet]
        for line in package_code_lines(obj)
    }
    package_lines |= {
        line.strip() for obj in WRAPPERS for line in inspect.getsource(obj).splitlines()
    }
    cells = notebook_cells()
    missing = [
        (number, line)
        for number in (12, 13, 14, 16, 17, 18, 20, 21, 22, 23)
        for line in cells[number]
        if line not in package_lines and line not in REPLACED
    ]
    assert not missing, f"notebook lines missing from original_notebook: {missing}"


def test_the_class_is_the_notebooks_under_both_names():
    assert original_notebook.OriginalRecommenderNet is recommender_net.RecommenderNet
    with pytest.raises(TypeError):
        recommender_net.RecommenderNet(5, 7)  # its own default hidden=10 crashes on hidden[-1]


# --- it runs, and keeps its bugs --------------------------------------------------------------------


def quiet(function, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()) as printed, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(*args, **kwargs), printed.getvalue()


def test_dense_mf_runs_prints_like_the_notebook_and_rescales_into_1_to_5():
    ratings, _ = make_synthetic_ratings(12, 9, seed=0)
    dense = to_dense(ratings, 12, 9)
    torch.manual_seed(0)
    seen = []

    estimated, printed = quiet(
        dense_mf.train_dense_mf,
        dense.ratings,
        dense.exist,
        n_factors=3,
        epochs=21,
        on_epoch=lambda epoch, loss, estimate: seen.append(epoch),
    )

    assert (
        estimated.shape == (12, 9)
        and estimated.min() == pytest.approx(1)
        and estimated.max() == pytest.approx(5)
    )
    assert printed.count("Loss at epoch") == 3 and "Last Loss = " in printed  # epochs 0, 10, 20
    assert seen == list(range(21))


def test_dense_mf_accumulates_its_gradients_as_written():
    """Without zero_grad, the second step uses the sum of both epochs' gradients."""
    ratings, _ = make_synthetic_ratings(12, 9, seed=0)
    dense = to_dense(ratings, 12, 9)
    steps = []
    original_step = torch.optim.SGD.step

    def spy(self, *args, **kwargs):
        steps.append([p.grad.clone() for p in self.param_groups[0]["params"]])
        return original_step(self, *args, **kwargs)

    torch.manual_seed(0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.SGD, "step", spy)
        quiet(dense_mf.train_dense_mf, dense.ratings, dense.exist, n_factors=3, epochs=2)

    assert not torch.allclose(steps[1][0], steps[0][0])
    assert steps[1][0].abs().sum() > steps[0][0].abs().sum()  # grown, not replaced


def test_dense_mf_refuses_a_matrix_that_cannot_fit(monkeypatch):
    monkeypatch.setattr("recsys_ref.mf.available_memory_bytes", lambda: 10)
    with pytest.raises(MemoryError, match="3 users x 4 items"):
        dense_mf.train_dense_mf(torch.zeros(3, 4), torch.zeros(3, 4))


def test_read_ratings_matrix_keeps_the_fillna_bug(tmp_path):
    path = tmp_path / "ratings_mat.csv"
    pd.DataFrame({"1": [5.0, np.nan], "2": [np.nan, 3.0]}).to_csv(
        path
    )  # empty cells, pandas' default

    ratings, exist = dense_mf.read_ratings_matrix(str(path))

    assert torch.isnan(ratings).sum() == 2
    assert exist.sum() == 4  # the NaN cells count as observed


def test_the_network_trains_with_the_notebooks_loop_and_evaluates_on_the_training_batches():
    ratings, _ = make_synthetic_ratings(20, 15, seed=0)
    frame = ratings.rename(columns=recommender_net.ORIGINAL_COLUMN_NAMES)
    batches = recommender_net.make_batches(frame)
    assert len(batches) == -(-len(frame) // 128) and batches[0][0].dtype == torch.long
    torch.manual_seed(0)

    net, printed = quiet(recommender_net.train, batches, 20, 15, epochs=2)
    (loss, accuracy), evaluated = quiet(recommender_net.evaluate, net, batches)

    assert printed.count("Loss at epoch") == 2 and "Last Loss" in printed
    assert "Average loss = " in evaluated and 0.0 <= accuracy <= 1.0 and loss > 0
    hidden_layer = next(layer for layer in net.hidden if isinstance(layer, torch.nn.Linear))
    assert all(
        hidden_layer.weight is not p for p in net.parameters()
    )  # never registered, never trained


def test_train_accepts_another_network():
    ratings, _ = make_synthetic_ratings(20, 15, seed=0)
    batches = recommender_net.make_batches(
        ratings.rename(columns=recommender_net.ORIGINAL_COLUMN_NAMES)
    )
    from recsys_ref.nn import RecommenderNet as Fixed

    torch.manual_seed(0)
    fixed = Fixed(20, 15, hidden=[8])
    trained, _ = quiet(recommender_net.train, batches, 20, 15, epochs=1, net=fixed)

    assert trained is fixed
