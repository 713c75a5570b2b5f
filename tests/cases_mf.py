"""Cases of the assignment ``mf``: correct answers in other styles (full marks) and realistic mistakes.

Each mistake costs exactly its own task, with a message that names it (see notebook_cases.Case).
The Training point is replayed by the grader with the student's Task 1 factors and Task 2
optimizer (fresh factors or ``Adam(lr=0.01)`` where one of them fails its task), so a mistake
in Task 1 or Task 2 costs that task only; a learning rate that makes the loss diverge passes
Task 2 (it is a positive number) and costs the Training point; both Task 1 and Task 2 wrong
costs the Training point too (nothing of the student's is trained).

The cases are edits of the instructor's solution (:data:`F1`, :data:`F2`, :data:`LOSS`,
:data:`ESTIMATE`, :data:`RANGE_BODY` must occur in it once), so they follow the release.
"""

from __future__ import annotations

from notebook_cases import Case

FACTORS, OPTIMIZER, LOSS_CELL, ESTIMATE_CELL, RANGE_CELL = (
    "task1-factors", "task2-optimizer", "task3-calc-loss", "task4-estimate", "task5-to-rating-range")
T1, T2, T3, T4, TRAIN, T5 = ("task1-factors-test", "task2-optimizer-test", "task3-calc-loss-test",
                             "task4-estimate-test", "training-test", "task5-to-rating-range-test")

F1 = "user_factors = (0.1 * torch.randn(n_factors, n_users)).requires_grad_()"
F2 = "movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()"
BOTH = F1 + "\n" + F2
ADAM = "optimizer = optim.Adam([user_factors, movies_factors], lr=0.01)"
LOSS = "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.sum() / exist.sum()"
ESTIMATE = "    return user_factors.T @ movies_factors"
RANGE_BODY = (
    "    smallest, largest = estimated.min(), estimated.max()\n"
    "    if largest == smallest:\n"
    "        return torch.full_like(estimated, (low + high) / 2)\n"
    "    return low + (high - low) * (estimated - smallest) / (largest - smallest)"
)
MIDPOINT = "        return torch.full_like(estimated, (low + high) / 2)"
SCALE = "    return low + (high - low) * (estimated - smallest) / (largest - smallest)"


def factors(code: str) -> tuple[tuple[str, str, str], ...]:
    """Replace the whole Task 1 code."""
    return ((FACTORS, BOTH, code),)


def optimizer(code: str) -> tuple[tuple[str, str, str], ...]:
    """Replace the whole Task 2 code."""
    return ((OPTIMIZER, ADAM, code),)


def loss(body: str) -> tuple[tuple[str, str, str], ...]:
    """Replace calc_loss's body (keeping its signature and docstring)."""
    return ((LOSS_CELL, LOSS, body),)


def estimate(body: str) -> tuple[tuple[str, str, str], ...]:
    """Replace estimate's body."""
    return ((ESTIMATE_CELL, ESTIMATE, body),)


def rescale(body: str) -> tuple[tuple[str, str, str], ...]:
    """Replace to_rating_range's body."""
    return ((RANGE_CELL, RANGE_BODY, body),)


# --------------------------------------------------------------------------- correct answers in other styles

CORRECT = (
    Case("mf-solution", "mf", "the instructor's solution"),
    Case("mf-comment-mentions-reference", "mf", "a correct cell whose comment mentions recsys_ref.mf",
         edits=((LOSS_CELL, LOSS, "    # like recsys_ref.mf.masked_mse, written myself\n" + LOSS),),
         absent_flags=("reference-used",)),
    Case("mf-ok-rand-uniform", "mf", "factors as in the original notebook: torch.rand(..., requires_grad=True)",
         edits=factors("user_factors = torch.rand(n_factors, n_users, requires_grad=True)\n"
                       "movies_factors = torch.rand(n_factors, n_movies, requires_grad=True)")),
    Case("mf-ok-parameter", "mf", "factors as nn.Parameter",
         edits=factors("user_factors = nn.Parameter(0.1 * torch.randn(n_factors, n_users))\n"
                       "movies_factors = nn.Parameter(0.1 * torch.randn(n_factors, n_movies))")),
    Case("mf-ok-float64-factors", "mf", "float64 factors (dtype=torch.float64)",
         edits=factors("user_factors = (0.1 * torch.randn(n_factors, n_users, dtype=torch.float64)).requires_grad_()\n"
                       "movies_factors = (0.1 * torch.randn(n_factors, n_movies, dtype=torch.double)).requires_grad_()")),
    Case("mf-ok-empty-uniform", "mf", "torch.empty(...).uniform_(-0.1, 0.1), then requires_grad_()",
         edits=factors("user_factors = torch.empty(n_factors, n_users).uniform_(-0.1, 0.1).requires_grad_()\n"
                       "movies_factors = torch.empty(n_factors, n_movies).uniform_(-0.1, 0.1).requires_grad_()")),
    Case("mf-ok-init-normal", "mf", "nn.init.normal_ on an empty tensor, gradients switched on afterwards",
         edits=factors("user_factors = nn.init.normal_(torch.empty(n_factors, n_users), std=0.1)\n"
                       "movies_factors = nn.init.normal_(torch.empty(n_factors, n_movies), std=0.1)\n"
                       "user_factors.requires_grad = True\n"
                       "movies_factors.requires_grad = True")),
    Case("mf-ok-scaled-under-no-grad", "mf", "requires_grad=True first, then scaled in place under torch.no_grad()",
         edits=factors("user_factors = torch.randn(n_factors, n_users, requires_grad=True)\n"
                       "movies_factors = torch.randn(n_factors, n_movies, requires_grad=True)\n"
                       "with torch.no_grad():\n"
                       "    user_factors.mul_(0.1)\n"
                       "    movies_factors.mul_(0.1)")),
    Case("mf-ok-factors-helper", "mf", "a helper function makes both factor tensors (torch.normal)",
         edits=factors("def make_factors(n_rows, n_cols, scale=0.1):\n"
                       "    return torch.normal(0.0, scale, size=(n_rows, n_cols)).requires_grad_(True)\n\n"
                       "user_factors = make_factors(n_factors, n_users)\n"
                       "movies_factors = make_factors(n_factors, n_movies)")),
    Case("mf-ok-one-block-split", "mf", "one random block split into the two tensors (clone of a slice, detach)",
         edits=factors("block = 0.1 * torch.randn(n_factors, n_users + n_movies)\n"
                       "user_factors = block[:, :n_users].clone().detach().requires_grad_(True)\n"
                       "movies_factors = block[:, n_users:].clone().detach().requires_grad_(True)")),
    Case("mf-ok-own-generator", "mf", "a seeded torch.Generator of the student's own",
         edits=factors("g = torch.Generator().manual_seed(42)\n"
                       "user_factors = (torch.randn(n_factors, n_users, generator=g) / 10).requires_grad_()\n"
                       "movies_factors = (torch.randn(n_factors, n_movies, generator=g) / 10).requires_grad_()")),
    Case("mf-ok-sgd", "mf", "optim.SGD with a learning rate that trains (lr=10), params as a keyword tuple",
         edits=optimizer("optimizer = optim.SGD(params=(user_factors, movies_factors), lr=10.0)")),
    Case("mf-ok-sgd-nesterov", "mf", "torch.optim.SGD with momentum and Nesterov",
         edits=optimizer("optimizer = torch.optim.SGD([user_factors, movies_factors], lr=5, momentum=0.9, nesterov=True)")),
    Case("mf-ok-rmsprop", "mf", "optim.RMSprop",
         edits=optimizer("optimizer = optim.RMSprop([user_factors, movies_factors], lr=0.01)")),
    Case("mf-ok-adamw", "mf", "optim.AdamW with weight decay and other betas",
         edits=optimizer("optimizer = optim.AdamW([user_factors, movies_factors], lr=0.01, betas=(0.9, 0.99), "
                         "weight_decay=1e-4)")),
    Case("mf-ok-param-groups", "mf", "two parameter groups with their own learning rates",
         edits=optimizer("optimizer = optim.Adam([{'params': [user_factors], 'lr': 0.01},\n"
                         "                        {'params': [movies_factors], 'lr': 0.02}])")),
    Case("mf-ok-adagrad-generator", "mf", "optim.Adagrad over a generator of the two tensors",
         edits=optimizer("optimizer = optim.Adagrad((t for t in (user_factors, movies_factors)), lr=0.1)")),
    Case("mf-ok-loss-boolean-index", "mf", "boolean indexing and F.mse_loss",
         edits=loss("    observed = exist.bool()\n    return F.mse_loss(est_r[observed], true_r[observed])")),
    Case("mf-ok-loss-where", "mf", "torch.where with a scalar zero, divided by count_nonzero",
         edits=loss("    squared = torch.where(exist > 0, (true_r - est_r) ** 2, 0.0)\n"
                    "    return squared.sum() / torch.count_nonzero(exist)")),
    Case("mf-ok-loss-masked-select", "mf", "torch.masked_select, then pow(2).mean()",
         edits=loss("    mask = exist == 1\n"
                    "    errors = torch.masked_select(true_r, mask) - torch.masked_select(est_r, mask)\n"
                    "    return errors.pow(2).mean()")),
    Case("mf-ok-loss-masked-product", "mf", "the mask applied to the difference, (a * b).sum() / n",
         edits=loss("    diff = (true_r - est_r) * exist\n    n = exist.sum()\n    return (diff * diff).sum() / n")),
    Case("mf-ok-loss-nanmean", "mf", "unobserved entries set to nan (on a new tensor), torch.nanmean",
         edits=loss("    errors = torch.where(exist.bool(), true_r - est_r, torch.full_like(est_r, float('nan')))\n"
                    "    return torch.nanmean(errors ** 2)")),
    Case("mf-ok-loss-sum-reduction", "mf", "F.mse_loss(reduction='sum') on masked tensors, divided by the count",
         edits=loss("    return F.mse_loss(est_r * exist, true_r * exist, reduction='sum') / exist.sum()")),
    Case("mf-ok-loss-shape-1", "mf", "a loss of shape (1,) (keepdim), which the task allows",
         edits=loss("    squared_error = exist * (true_r - est_r) ** 2\n"
                    "    return squared_error.sum().reshape(1) / exist.sum()")),
    Case("mf-ok-loss-clone-then-fill", "mf", "unobserved ratings zeroed on a clone (the caller's tensor unchanged)",
         edits=loss("    observed_r = true_r.clone()\n"
                    "    observed_r[exist == 0] = 0\n"
                    "    return ((observed_r - est_r * exist) ** 2).sum() / exist.sum()")),
    Case("mf-ok-loss-mseloss-module", "mf", "an nn.MSELoss module on the observed entries",
         edits=loss("    criterion = nn.MSELoss()\n"
                    "    mask = exist.to(torch.bool)\n"
                    "    return criterion(est_r.masked_select(mask), true_r.masked_select(mask))")),
    Case("mf-ok-loss-item-count", "mf", "divided by exist.sum().item() (a Python number: the loss stays differentiable)",
         edits=loss("    return (exist * (true_r - est_r) ** 2).sum() / exist.sum().item()")),
    Case("mf-ok-estimate-mm", "mf", "torch.mm(user_factors.t(), movies_factors)",
         edits=estimate("    return torch.mm(user_factors.t(), movies_factors)")),
    Case("mf-ok-estimate-matmul", "mf", "torch.matmul with transpose(0, 1)",
         edits=estimate("    return torch.matmul(user_factors.transpose(0, 1), movies_factors)")),
    Case("mf-ok-estimate-einsum", "mf", "torch.einsum",
         edits=estimate("    return torch.einsum('ku,km->um', user_factors, movies_factors)")),
    Case("mf-ok-estimate-broadcast", "mf", "broadcast elementwise product summed over the factors",
         edits=estimate("    return (user_factors.unsqueeze(2) * movies_factors.unsqueeze(1)).sum(dim=0)")),
    Case("mf-ok-estimate-tensordot", "mf", "torch.tensordot over the factor axis",
         edits=estimate("    return torch.tensordot(user_factors, movies_factors, dims=([0], [0]))")),
    Case("mf-ok-estimate-other-names", "mf", "estimate(P, Q) with other argument names and no docstring",
         code={ESTIMATE_CELL: "def estimate(P, Q):\n    return P.t().matmul(Q)"}),
    Case("mf-ok-range-aminmax", "mf", "torch.aminmax, a zero span tested with .item()",
         edits=rescale("    lo, hi = torch.aminmax(estimated)\n"
                       "    span = (hi - lo).item()\n"
                       "    if span == 0:\n"
                       "        return torch.ones_like(estimated) * (low + high) / 2\n"
                       "    return (estimated - lo) / span * (high - low) + low")),
    Case("mf-ok-range-float64", "mf", "a float64 result from float32 input, without NumPy",
         edits=rescale("    x = estimated.double()\n"
                       "    if x.max() == x.min():\n"
                       "        return torch.full(x.shape, (low + high) / 2, dtype=torch.float64)\n"
                       "    return low + (high - low) * (x - x.min()) / (x.max() - x.min())")),
    Case("mf-ok-range-numpy-float64", "mf", "computed with NumPy, returned as a float64 tensor",
         edits=((RANGE_CELL, RANGE_BODY,
                 ("    import numpy as np\n"
                 "    values = np.asarray(estimated.detach().cpu().numpy(), dtype=np.float64)\n"
                 "    smallest, largest = values.min(), values.max()\n"
                 "    if largest == smallest:\n"
                 "        return torch.from_numpy(np.full(values.shape, (low + high) / 2))\n"
                 "    return torch.from_numpy(low + (high - low) * (values - smallest) / (largest - smallest))")),)),
    Case("mf-ok-range-nan-to-num", "mf", "no branch: nan_to_num turns 0 / 0 into the midpoint",
         edits=rescale("    unit = (estimated - estimated.min()) / (estimated.max() - estimated.min())\n"
                       "    unit = torch.nan_to_num(unit, nan=0.5)\n"
                       "    return low + (high - low) * unit")),
    Case("mf-ok-range-clone-in-place", "mf", "in-place arithmetic on a clone; the constant case tested with allclose",
         edits=rescale("    x = estimated.clone()\n"
                       "    if torch.allclose(x, x.flatten()[0].expand_as(x)):\n"
                       "        return x.fill_((low + high) / 2)\n"
                       "    x -= x.min()\n"
                       "    x /= x.max()\n"
                       "    x *= high - low\n"
                       "    x += low\n"
                       "    return x")),
    Case("mf-ok-range-helpers", "mf", "helper functions for the unit scaling and the midpoint, amin/amax",
         edits=rescale("    def unit_scale(x):\n"
                       "        return (x - x.amin()) / (x.amax() - x.amin())\n\n"
                       "    def midpoint(x):\n"
                       "        return torch.zeros_like(x) + (low + high) / 2\n\n"
                       "    if torch.isclose(estimated.amax(), estimated.amin()):\n"
                       "        return midpoint(estimated)\n"
                       "    return low + unit_scale(estimated) * (high - low)")),
)

# --------------------------------------------------------------------------- the old suite's planted mistakes

PORTED = (
    Case("mf-transposed-factors", "mf", "factors created as (n_users, n_factors) and (n_movies, n_factors)",
         edits=factors(F1.replace("n_factors, n_users", "n_users, n_factors") + "\n"
                       + F2.replace("n_factors, n_movies", "n_movies, n_factors")),
         expected={T1: 0}, message="The factors are transposed"),
    Case("mf-no-requires-grad", "mf", "user_factors created without requires_grad",
         edits=((FACTORS, F1, "user_factors = 0.1 * torch.randn(n_factors, n_users)"),),
         expected={T1: 0}, message="user_factors.requires_grad is False"),
    Case("mf-non-leaf-factors", "mf", "0.1 * torch.randn(..., requires_grad=True): non-leaf tensors",
         edits=factors("user_factors = 0.1 * torch.randn(n_factors, n_users, requires_grad=True)\n"
                       "movies_factors = 0.1 * torch.randn(n_factors, n_movies, requires_grad=True)"),
         expected={T1: 0}, message="to be a leaf tensor"),
    Case("mf-optimizer-one-tensor", "mf", "optimizer over movies_factors only",
         edits=optimizer("optimizer = optim.Adam([movies_factors], lr=0.01)"),
         expected={T2: 0}, message="user_factors is missing"),
    Case("mf-loss-all-cells", "mf", "loss averaged over all cells (the original notebook's bug)",
         edits=loss("    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.mean()"),
         expected={T3: 0}, message="averages over all cells"),
    Case("mf-loss-no-mask", "mf", "loss without the mask",
         edits=loss("    return ((true_r - est_r) ** 2).mean()"),
         expected={T3: 0}, message="ignores the mask"),
    Case("mf-loss-sum", "mf", "sum of squared errors instead of the mean",
         edits=loss("    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.sum()"),
         expected={T3: 0}, message="sum instead of the mean"),
    Case("mf-elementwise-estimate", "mf", "elementwise product instead of the matrix product",
         edits=estimate("    return user_factors * movies_factors"),
         expected={T4: 0}, message="multiplies elementwise"),
    Case("mf-clip-range", "mf", "clipping instead of min-max rescaling",
         edits=rescale("    return estimated.clamp(low, high)"),
         expected={T5: 0}, message="clips the values"),
    Case("mf-constant-not-midpoint", "mf", "no special case for a constant matrix (0 / 0 gives nan)",
         edits=((RANGE_CELL, "    if largest == smallest:\n" + MIDPOINT + "\n", ""),),
         expected={T5: 0}, message="the division gives nan"),
)

# --------------------------------------------------------------------------- new realistic mistakes

MISTAKES = (
    Case("mf-factors-zeros", "mf", "factors initialised with zeros (every user the same, forever)",
         edits=factors("user_factors = torch.zeros(n_factors, n_users, requires_grad=True)\n"
                       "movies_factors = torch.zeros(n_factors, n_movies, requires_grad=True)"),
         expected={T1: 0}, message="expected random initial values"),
    Case("mf-factors-swapped", "mf", "user_factors has the movies' shape and movies_factors the users'",
         edits=factors("user_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()\n"
                       "movies_factors = (0.1 * torch.randn(n_factors, n_users)).requires_grad_()"),
         expected={T1: 0}, message="did you swap user_factors and movies_factors"),
    Case("mf-factors-ten-factors", "mf", "a hard-coded number of factors (10 instead of n_factors)",
         edits=factors("user_factors = (0.1 * torch.randn(10, n_users)).requires_grad_()\n"
                       "movies_factors = (0.1 * torch.randn(10, n_movies)).requires_grad_()"),
         expected={T1: 0}, message="Use n_factors = 50 rows"),
    Case("mf-factors-randint", "mf", "integer factors from torch.randint (cannot require gradients)",
         edits=factors("user_factors = torch.randint(-2, 3, (n_factors, n_users))\n"
                       "movies_factors = torch.randint(-2, 3, (n_factors, n_movies))"),
         expected={T1: 0}, message="to hold floats"),
    Case("mf-factors-half", "mf", "float16 factors (.half()): the task allows float32 or float64 only",
         edits=factors("user_factors = (0.1 * torch.randn(n_factors, n_users)).half().requires_grad_()\n"
                       "movies_factors = (0.1 * torch.randn(n_factors, n_movies)).half().requires_grad_()"),
         expected={T1: 0}, message="got dtype torch.float16 (half precision). Task 1 allows float32"),
    Case("mf-factors-bfloat16", "mf", "bfloat16 factors (dtype=torch.bfloat16)",
         edits=factors("user_factors = torch.randn(n_factors, n_users, dtype=torch.bfloat16, requires_grad=True)\n"
                       "movies_factors = torch.randn(n_factors, n_movies, dtype=torch.bfloat16, requires_grad=True)"),
         expected={T1: 0}, message="got dtype torch.bfloat16"),
    Case("mf-factors-numpy", "mf", "NumPy arrays instead of tensors",
         edits=factors("import numpy as np\n"
                       "user_factors = 0.1 * np.random.randn(n_factors, n_users)\n"
                       "movies_factors = 0.1 * np.random.randn(n_factors, n_movies)"),
         expected={T1: 0}, message="to be a torch.Tensor"),
    Case("mf-factors-scaled-under-no-grad", "mf", "created and scaled inside torch.no_grad(): no gradients",
         edits=factors("with torch.no_grad():\n"
                       "    user_factors = 0.1 * torch.randn(n_factors, n_users, requires_grad=True)\n"
                       "    movies_factors = 0.1 * torch.randn(n_factors, n_movies, requires_grad=True)"),
         expected={T1: 0}, message="requires_grad is False"),
    Case("mf-optimizer-class", "mf", "the optimizer class itself, not an optimizer object",
         edits=optimizer("optimizer = optim.Adam"),
         expected={T2: 0}, message="got the class Adam itself"),
    Case("mf-optimizer-maximize", "mf", "maximize=True (gradient ascent)",
         edits=optimizer("optimizer = optim.SGD([user_factors, movies_factors], lr=10.0, maximize=True)"),
         expected={T2: 0}, message="Remove maximize=True"),
    Case("mf-optimizer-zero-lr", "mf", "a learning rate of 0",
         edits=optimizer("optimizer = optim.SGD([user_factors, movies_factors], lr=0)"),
         expected={T2: 0}, message="expected a positive learning rate"),
    Case("mf-optimizer-detached-copies", "mf", "the optimizer holds detached copies of the factors",
         edits=optimizer("optimizer = optim.Adam([user_factors.detach(), movies_factors.detach()], lr=0.01)"),
         expected={T2: 0}, message="It holds a copy of user_factors"),
    Case("mf-optimizer-extra-biases", "mf", "bias tensors added to the optimizer (not part of the task)",
         edits=optimizer("user_bias = torch.zeros(n_users, requires_grad=True)\n"
                         "movie_bias = torch.zeros(n_movies, requires_grad=True)\n"
                         "optimizer = optim.Adam([user_factors, movies_factors, user_bias, movie_bias], lr=0.01)"),
         expected={T2: 0}, message="hold exactly user_factors and movies_factors"),
    Case("mf-optimizer-diverges", "mf", "a learning rate so large that the loss diverges (Task 2 holds, Training fails)",
         edits=optimizer("optimizer = optim.SGD([user_factors, movies_factors], lr=1000.0)"),
         expected={TRAIN: 0}, message="Lower the learning rate"),
    Case("mf-optimizer-lbfgs", "mf", "optim.LBFGS, whose step() needs a closure the notebook's loop does not pass "
                                     "(Task 2 holds, Training fails)",
         edits=optimizer("optimizer = optim.LBFGS([user_factors, movies_factors], lr=1)"),
         expected={TRAIN: 0}, message="closure"),
    Case("mf-optimizer-sparse-adam", "mf", "optim.SparseAdam, which refuses the dense gradients of the factors "
                                           "(Task 2 holds, Training fails)",
         edits=optimizer("optimizer = optim.SparseAdam([user_factors, movies_factors], lr=0.01)"),
         expected={TRAIN: 0}, message="SparseAdam"),
    Case("mf-factors-and-optimizer-wrong", "mf", "non-leaf factors and the optimizer class: nothing of the "
                                                 "student's can be trained, the Training point is lost too",
         edits=factors("user_factors = 0.1 * torch.randn(n_factors, n_users, requires_grad=True)\n"
                       "movies_factors = 0.1 * torch.randn(n_factors, n_movies, requires_grad=True)")
         + optimizer("optimizer = optim.Adam"),
         expected={T1: 0, T2: 0, TRAIN: 0}, message="nothing of yours could be trained"),
    Case("mf-loss-rmse", "mf", "the root of the mean squared error",
         edits=loss("    squared_error = exist * (true_r - est_r) ** 2\n"
                    "    return torch.sqrt(squared_error.sum() / exist.sum())"),
         expected={T3: 0}, message="(RMSE)"),
    Case("mf-loss-absolute", "mf", "mean absolute error",
         edits=loss("    return (exist * (true_r - est_r).abs()).sum() / exist.sum()"),
         expected={T3: 0}, message="averages absolute errors"),
    Case("mf-loss-item", "mf", "returns loss.item(), a Python float",
         edits=loss("    squared_error = exist * (true_r - est_r) ** 2\n"
                    "    return (squared_error.sum() / exist.sum()).item()"),
         expected={T3: 0}, message="not loss.item()"),
    Case("mf-loss-detached", "mf", "the loss built from est_r.detach() (no gradient)",
         edits=loss("    squared_error = exist * (true_r - est_r.detach()) ** 2\n"
                    "    return squared_error.sum() / exist.sum()"),
         expected={T3: 0}, message="the result has no gradient"),
    Case("mf-loss-zeroes-true-r", "mf", "unobserved ratings set to 0 in place in the caller's true_r",
         edits=loss("    true_r[exist == 0] = 0\n"
                    "    squared_error = exist * (true_r - est_r) ** 2\n"
                    "    return squared_error.sum() / exist.sum()"),
         expected={T3: 0}, message="changes its argument true_r in place"),
    Case("mf-loss-mask-on-estimate-only", "mf", "the mask applied to est_r only: every -1 counts as a rating of -1",
         edits=loss("    return ((true_r - est_r * exist) ** 2).sum() / exist.sum()"),
         expected={T3: 0}, message="over the entries where exist is 1"),
    Case("mf-loss-per-user", "mf", "a vector of per-user losses instead of one number",
         edits=loss("    squared_error = exist * (true_r - est_r) ** 2\n"
                    "    return squared_error.sum(dim=1) / exist.sum()"),
         expected={T3: 0}, message="expected a scalar"),
    Case("mf-estimate-transposed", "mf", "movies x users: movies_factors.T @ user_factors",
         edits=estimate("    return movies_factors.T @ user_factors"),
         expected={T4: 0}, message="The result is transposed"),
    Case("mf-estimate-wrong-transpose", "mf", "user_factors @ movies_factors.T (multiplies over users and movies)",
         edits=estimate("    return user_factors @ movies_factors.T"),
         expected={T4: 0}, message="user_factors.T @ movies_factors"),
    Case("mf-estimate-clipped", "mf", "estimate clips its result into [1, 5] (Task 5's business)",
         edits=estimate("    return (user_factors.T @ movies_factors).clamp(1, 5)"),
         expected={T4: 0}, message="estimate rescales its result"),
    Case("mf-estimate-numpy", "mf", "the product computed in NumPy (no gradient reaches the factors)",
         edits=estimate("    product = user_factors.detach().numpy().T @ movies_factors.detach().numpy()\n"
                        "    return torch.from_numpy(product)"),
         expected={T4: 0}, message="it has no gradient"),
    Case("mf-range-floor-midpoint", "mf", "the constant-matrix midpoint with floor division (low + high) // 2",
         edits=((RANGE_CELL, MIDPOINT, "        return torch.full_like(estimated, (low + high) // 2)"),),
         expected={T5: 0}, message="rounds down"),
    Case("mf-range-constant-to-low", "mf", "a constant matrix mapped to low instead of the midpoint",
         edits=((RANGE_CELL, MIDPOINT, "        return torch.full_like(estimated, low)"),),
         expected={T5: 0}, message="must map to the midpoint"),
    Case("mf-range-hard-coded", "mf", "always rescales into [1, 5], ignoring low and high",
         edits=((RANGE_CELL, SCALE, "    return 1 + 4 * (estimated - smallest) / (largest - smallest)"),),
         expected={T5: 0}, message="ignores the low and high arguments"),
    Case("mf-range-in-place", "mf", "rescales the caller's tensor in place",
         edits=((RANGE_CELL, SCALE, ("    estimated -= smallest\n"
                                    "    estimated /= largest - smallest\n"
                                    "    return low + (high - low) * estimated")),),
         expected={T5: 0}, message="changes its argument estimated in place"),
    Case("mf-range-half", "mf", "the result converted to float16 (.half())",
         edits=((RANGE_CELL, SCALE, "    return (low + (high - low) * (estimated - smallest) / (largest - smallest)).half()"),),
         expected={T5: 0}, message="got dtype torch.float16 (half precision"),
    Case("mf-range-reversed", "mf", "(max - x) / (max - min): the minimum maps to high",
         edits=((RANGE_CELL, SCALE, "    return low + (high - low) * (largest - estimated) / (largest - smallest)"),),
         expected={T5: 0}, message="not (max - x)"),
    Case("mf-range-times-high", "mf", "multiplied by high instead of the width high - low",
         edits=((RANGE_CELL, SCALE, "    return low + high * (estimated - smallest) / (largest - smallest)"),),
         expected={T5: 0}, message="Multiply by the width"),
    Case("mf-range-unit-interval", "mf", "min-max into [0, 1], never mapped into [low, high]",
         edits=((RANGE_CELL, SCALE, "    return (estimated - smallest) / (largest - smallest)"),),
         expected={T5: 0}, message="min-max scaling into [0, 1]"),
    Case("mf-range-rounded-to-int", "mf", "rounded to whole ratings with .round().int()",
         edits=((RANGE_CELL, SCALE, ("    scaled = low + (high - low) * (estimated - smallest) / (largest - smallest)\n"
                                    "    return scaled.round().int()")),),
         expected={T5: 0}, message="do not round or convert to integers"),
    Case("mf-range-numpy-array", "mf", "returns a NumPy array",
         edits=((RANGE_CELL, SCALE, ("    scaled = low + (high - low) * (estimated - smallest) / (largest - smallest)\n"
                                    "    return scaled.numpy()")),),
         expected={T5: 0}, message="Keep the result a tensor"),
)

UNTOUCHED = (
    Case("mf-untouched-release", "mf", "the released notebook handed in untouched (every answer a stub)",
         code={gid: "raise NotImplementedError()" for gid in ("task1-factors", "task2-optimizer")} | {
             "task3-calc-loss": "def calc_loss(true_r, est_r, exist):\n    raise NotImplementedError()",
             "task4-estimate": "def estimate(user_factors, movies_factors):\n    raise NotImplementedError()",
             "task5-to-rating-range": "def to_rating_range(estimated, low=1.0, high=5.0):\n    raise NotImplementedError()"},
         expected={"task1-factors-test": 0, "task2-optimizer-test": 0, "task3-calc-loss-test": 0,
                   "task4-estimate-test": 0, "training-test": 0, "task5-to-rating-range-test": 0},
         message="not implemented yet"),
)

CASES = CORRECT + PORTED + MISTAKES + UNTOUCHED

#: Also graded through the real `python -m grader` path (tests/pipeline), besides every case that needs a kernel:
#: the issue's own examples and one case of each kind; the in-process test grades every case.
BATCH = {
    "mf-solution", "mf-comment-mentions-reference", "mf-ok-range-numpy-float64", "mf-ok-parameter", "mf-ok-sgd",
    "mf-non-leaf-factors", "mf-loss-all-cells", "mf-range-floor-midpoint", "mf-elementwise-estimate",
    "mf-optimizer-lbfgs", "mf-factors-and-optimizer-wrong", "mf-loss-zeroes-true-r", "mf-untouched-release",
}
