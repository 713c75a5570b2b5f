"""The mutation suite's table and the helpers that turn it into nbgrader submissions.

A *submission* is what a student hands in: the released notebook
(``exercises/<assignment>/<notebook>.ipynb``) with each solution cell filled
in. The correct submission takes each solution cell from
``solutions/`` without the ``### BEGIN/END SOLUTION`` lines; a *mutant* then
plants one mistake by replacing one exact piece of text in one solution cell
(the replacement must occur exactly once, so the table breaks loudly when the
solutions change). Alternative correct solutions replace whole cells.

Expected scores: every graded cell keeps its full points except those listed
in ``lost`` (cell -> expected score). A mistake costs its own task only: the
provided cells of ``mf`` replace a failing piece by the reference's
(``recsys_ref.grading.usable_factors`` and ``training_pieces``), so the
later tasks and the training check are graded on their own.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

#: Graded cells and their points, in notebook order.
POINTS = {
    "mf": {
        "task1-factors-test": 2,
        "task2-optimizer-test": 1,
        "task3-calc-loss-test": 3,
        "task4-estimate-test": 1,
        "training-test": 1,
        "task5-to-rating-range-test": 2,
    },
    "deep": {"task1-init-test": 5, "task2-forward-test": 5},
}


@dataclass(frozen=True)
class Mutant:
    """One planted mistake.

    Attributes:
        name: Also the student id of the submission.
        assignment: ``mf`` or ``deep``.
        mistake: What is wrong, in words.
        edits: ``(solution cell id, exact old text, new text)`` replacements.
        task: The graded cell of the task the mistake belongs to.
        message: A fragment the feedback must show (from the check's message).
        lost: Graded cell -> expected score, for every cell not at full points.
        note: Why cells other than ``task`` are lost, if any.
    """

    name: str
    assignment: str
    mistake: str
    edits: tuple[tuple[str, str, str], ...]
    task: str
    message: str
    lost: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def expected_scores(self) -> dict[str, float]:
        """Every graded cell's expected score."""
        scores = dict(POINTS[self.assignment])
        scores.update(self.lost)
        return scores


F1 = "user_factors = (0.1 * torch.randn(n_factors, n_users)).requires_grad_()"
F2 = "movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()"
LOSS = "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.sum() / exist.sum()"
RANGE_BODY = (
    "    smallest, largest = estimated.min(), estimated.max()\n"
    "    if largest == smallest:\n"
    "        return torch.full_like(estimated, (low + high) / 2)\n"
    "    return low + (high - low) * (estimated - smallest) / (largest - smallest)"
)
NET = "recommender-net"

MUTANTS: tuple[Mutant, ...] = (
    # ---------------------------------------------------------------- mf
    Mutant(
        "mf-transposed-factors", "mf", "factors created as (n_users, n_factors) and (n_movies, n_factors)",
        (("task1-factors", F1 + "\n" + F2,
          F1.replace("n_factors, n_users", "n_users, n_factors") + "\n" + F2.replace("n_factors, n_movies", "n_movies, n_factors")),),
        "task1-factors-test", "The factors are transposed",
        {"task1-factors-test": 0},
    ),
    Mutant(
        "mf-no-requires-grad", "mf", "user_factors created without requires_grad",
        (("task1-factors", F1, "user_factors = 0.1 * torch.randn(n_factors, n_users)"),),
        "task1-factors-test", "user_factors.requires_grad is False",
        {"task1-factors-test": 0},
    ),
    Mutant(
        "mf-non-leaf-factors", "mf", "requires_grad=True before scaling: non-leaf tensors",
        (("task1-factors", F1 + "\n" + F2,
          "user_factors = 0.1 * torch.randn(n_factors, n_users, requires_grad=True)\n"
          "movies_factors = 0.1 * torch.randn(n_factors, n_movies, requires_grad=True)"),),
        "task1-factors-test", "to be a leaf tensor",
        {"task1-factors-test": 0},
    ),
    Mutant(
        "mf-optimizer-one-tensor", "mf", "optimizer over movies_factors only",
        (("task2-optimizer", "optim.Adam([user_factors, movies_factors], lr=0.01)", "optim.Adam([movies_factors], lr=0.01)"),),
        "task2-optimizer-test", "user_factors is missing",
        {"task2-optimizer-test": 0},
    ),
    Mutant(
        "mf-loss-all-cells", "mf", "loss averaged over all cells (the seed's bug)",
        (("task3-calc-loss", LOSS, "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.mean()"),),
        "task3-calc-loss-test", "averages over all cells",
        {"task3-calc-loss-test": 0},
    ),
    Mutant(
        "mf-loss-no-mask", "mf", "loss without the mask",
        (("task3-calc-loss", LOSS, "    return ((true_r - est_r) ** 2).mean()"),),
        "task3-calc-loss-test", "ignores the mask",
        {"task3-calc-loss-test": 0},
    ),
    Mutant(
        "mf-loss-sum", "mf", "sum of squared errors instead of the mean",
        (("task3-calc-loss", LOSS, "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.sum()"),),
        "task3-calc-loss-test", "sum instead of the mean",
        {"task3-calc-loss-test": 0},
    ),
    Mutant(
        "mf-elementwise-estimate", "mf", "elementwise product instead of the matrix product",
        (("task4-estimate", "return user_factors.T @ movies_factors", "return user_factors * movies_factors"),),
        "task4-estimate-test", "multiplies elementwise",
        {"task4-estimate-test": 0},
    ),
    Mutant(
        "mf-clip-range", "mf", "clipping instead of min-max rescaling",
        (("task5-to-rating-range", RANGE_BODY, "    return estimated.clamp(low, high)"),),
        "task5-to-rating-range-test", "clips the values",
        {"task5-to-rating-range-test": 0},
    ),
    Mutant(
        "mf-constant-not-midpoint", "mf", "no special case for a constant matrix (0 / 0)",
        (("task5-to-rating-range", "    if largest == smallest:\n        return torch.full_like(estimated, (low + high) / 2)\n", ""),),
        "task5-to-rating-range-test", "midpoint",
        {"task5-to-rating-range-test": 0},
    ),
    # ---------------------------------------------------------------- deep
    Mutant(
        "deep-plain-list", "deep", "hidden layers in a plain Python list (not registered)",
        ((NET, "self.hidden = nn.Sequential(*gen_layers(n_factors * 2))", "self.hidden = gen_layers(n_factors * 2)"),
         (NET, "        x = self.hidden(x)\n", "        for layer in self.hidden:\n            x = layer(x)\n")),
        "task1-init-test", "plain Python container",
        {"task1-init-test": 0},
    ),
    Mutant(
        "deep-hidden-int", "deep", "hidden=10 (an int) not supported, as in the seed",
        ((NET, "        if isinstance(hidden, int):\n            hidden = [hidden]\n", ""),),
        "task1-init-test", "means one hidden layer",
        {"task1-init-test": 0},
    ),
    Mutant(
        "deep-no-hidden-dropout", "deep", "no Dropout after the hidden layers",
        ((NET, "                if dropout_rate is not None and dropout_rate > 0.:\n"
               "                    hidden_layers.append(nn.Dropout(dropout_rate))\n", ""),),
        "task1-init-test", "Each hidden layer is Linear, ReLU, then nn.Dropout",
        {"task1-init-test": 0},
    ),
    Mutant(
        "deep-concat-swapped", "deep", "movies concatenated before users",
        ((NET, "torch.cat([self.users(users), self.movies(movies)], dim=1)", "torch.cat([self.movies(movies), self.users(users)], dim=1)"),),
        "task2-forward-test", "concatenates the movie embedding before the user embedding",
        {"task2-forward-test": 0},
    ),
    Mutant(
        "deep-no-sigmoid", "deep", "sigmoid missing",
        ((NET, "x = torch.sigmoid(self.fc(x))", "x = self.fc(x)"),),
        "task2-forward-test", "The sigmoid is missing",
        {"task2-forward-test": 0},
    ),
    Mutant(
        "deep-wrong-scaling", "deep", "output scaled by 5 * sigmoid (range (0, 5))",
        ((NET, "return low + (high - low) * x", "return high * x"),),
        "task2-forward-test", "Wrong output scaling",
        {"task2-forward-test": 0},
    ),
    Mutant(
        "deep-squeezed-output", "deep", "output squeezed to shape (batch,)",
        ((NET, "return low + (high - low) * x", "return (low + (high - low) * x).squeeze()"),),
        "task2-forward-test", "do not squeeze",
        {"task2-forward-test": 0},
    ),
    Mutant(
        "deep-dropout-in-eval", "deep", "F.dropout without training=self.training: active after eval()",
        ((NET, "x = self.drop(x)", "x = F.dropout(x, self.drop.p)"),),
        "task2-forward-test", "dropout stays active after model.eval()",
        {"task2-forward-test": 0},
    ),
    Mutant(
        "deep-embedding-dropout-unused", "deep", "forward never applies the embedding dropout",
        ((NET, "        x = self.drop(x)\n", ""),),
        "task2-forward-test", "never calls Dropout",
        {"task2-forward-test": 0},
    ),
)

# ----------------------------------------------------------------------- alternative correct solutions

ALTERNATIVE_MF = {
    "task1-factors": (
        "# the seed's initialisation, uniform in [0, 1)\n"
        "user_factors = torch.rand(n_factors, n_users, requires_grad=True)\n"
        "movies_factors = torch.rand(n_factors, n_movies, requires_grad=True)"
    ),
    "task2-optimizer": "optimizer = optim.SGD(params=(user_factors, movies_factors), lr=10.0)",
    "task3-calc-loss": (
        "def calc_loss(true_r, est_r, exist):\n"
        "    observed = exist.bool()\n"
        "    return torch.mean(torch.square(true_r[observed] - est_r[observed]))"
    ),
    "task4-estimate": (
        "def estimate(user_factors, movies_factors):\n"
        "    return torch.einsum('ku,km->um', user_factors, movies_factors)"
    ),
    "task5-to-rating-range": (
        "def to_rating_range(estimated, low=1.0, high=5.0):\n"
        "    span = estimated.max() - estimated.min()\n"
        "    if span == 0:\n"
        "        return torch.ones_like(estimated) * (low + high) / 2\n"
        "    scaled = (estimated - estimated.min()) / span\n"
        "    return scaled * (high - low) + low"
    ),
}

ALTERNATIVE_DEEP_NET = '''
class RecommenderNet(nn.Module):
    """An alternative correct solution: other names, ModuleLists, F.relu, an nn.Sigmoid head."""

    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        super().__init__()
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.user_table = nn.Embedding(n_users, n_factors)
        self.movie_table = nn.Embedding(n_movies, n_factors)
        self.input_dropout = nn.Dropout(p=embedding_dropout)
        self.linears = nn.ModuleList()
        self.dropouts = nn.ModuleList()
        n_in = 2 * n_factors
        for n_out in sizes:
            self.linears.append(nn.Linear(n_in, n_out))
            self.dropouts.append(nn.Dropout(dropout_rate or 0.0))
            n_in = n_out
        self.head = nn.Sequential(nn.Linear(n_in, 1), nn.Sigmoid())
        self._init()

    def forward(self, users, movies, minmax=None):
        lo, hi = (1, 5) if minmax is None else (minmax[0], minmax[1])
        x = torch.cat((self.user_table(users), self.movie_table(movies)), 1)
        x = self.input_dropout(x)
        for linear, dropout in zip(self.linears, self.dropouts):
            x = dropout(F.relu(linear(x)))
        return self.head(x) * (hi - lo) + lo

    def _init(self):
        for module in self.modules():
            if isinstance(module, nn.Embedding):
                module.weight.data.uniform_(-0.05, 0.05)
            elif isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                module.bias.data.fill_(0.01)
'''.strip("\n")

ALTERNATIVES = {"mf": ALTERNATIVE_MF, "deep": {NET: ALTERNATIVE_DEEP_NET}}

# ----------------------------------------------------------------------- building submissions


def read_notebook(path: Path) -> dict:
    """A notebook as JSON."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_notebook(nb: dict, path: Path) -> None:
    """Write a notebook, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def cell_source(cell: dict) -> str:
    """A cell's source as one string."""
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def grade_id(cell: dict) -> str | None:
    """The nbgrader id of a cell, if any."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_code(solution_nb: dict) -> dict[str, str]:
    """Solution cell id -> its code as a student would have written it (the marker lines removed)."""
    code = {}
    for cell in solution_nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell_source(cell).split("\n") if line.strip() not in MARKERS]
            code[meta["grade_id"]] = "\n".join(lines)
    return code


def completed_submission(release_nb: dict, solution_nb: dict, replacements: dict[str, str] | None = None) -> dict:
    """The released notebook with every solution cell filled in (from the solutions, or ``replacements``)."""
    nb = copy.deepcopy(release_nb)
    code = solution_code(solution_nb)
    code.update(replacements or {})
    filled = set()
    for cell in nb["cells"]:
        cid = grade_id(cell)
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and cid in code:
            cell["source"] = code[cid]
            filled.add(cid)
    missing = set(code) - filled
    assert not missing, f"solution cells missing from the release: {sorted(missing)}"
    return nb


def mutate(nb: dict, mutant: Mutant) -> dict:
    """Apply a mutant's edits to a completed submission; each old text must occur exactly once."""
    nb = copy.deepcopy(nb)
    cells = {grade_id(cell): cell for cell in nb["cells"]}
    for cell_id, old, new in mutant.edits:
        source = cell_source(cells[cell_id])
        count = source.count(old)
        assert count == 1, f"{mutant.name}: expected the text once in cell {cell_id}, found it {count} times: {old!r}"
        cells[cell_id]["source"] = source.replace(old, new)
    return nb
