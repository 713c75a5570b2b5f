"""Checks for the assignment ``deep`` (RecommenderNet, the seed's model tasks 1-2).

The checks never rely on attribute names: they find the student's modules by
type and shape, wherever they are stored (an attribute, ``nn.Sequential``,
``nn.ModuleList``, or a plain Python list, which is then reported as not
registered). ``__init__`` is checked on its structure (embeddings, the
Linear chain, dropouts, registration, parameter count);``forward`` is checked
on its behaviour, by copying the weights of a reference
:class:`recsys_ref.nn.RecommenderNet` into the student's modules and
comparing outputs, so each task is graded on its own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from recsys_ref.grading._common import (
    close,
    describe_error,
    fail,
    fmt,
    keep_global_rng,
    not_implemented_cause,
    plain,
    type_name,
)
from recsys_ref.nn import RecommenderNet, count_parameters_formula, hidden_sizes

TASK_INIT = "Task 1 (RecommenderNet.__init__)"
TASK_FORWARD = "Task 2 (RecommenderNet.forward)"


@dataclass(frozen=True)
class NetConfig:
    """One way to build the network, with ``n_users != n_movies`` so that the embeddings can be told apart."""

    n_users: int
    n_movies: int
    n_factors: int | None = None
    embedding_dropout: float | None = None
    hidden: int | tuple[int, ...] | None = None
    dropout_rate: float | None = None
    seed: int = 0
    kwargs: dict = field(default_factory=dict, compare=False)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments to pass (defaults left out)."""
        given = {
            "n_factors": self.n_factors,
            "embedding_dropout": self.embedding_dropout,
            "hidden": list(self.hidden) if isinstance(self.hidden, tuple) else self.hidden,
            "dropout_rate": self.dropout_rate,
        }
        return {key: value for key, value in given.items() if value is not None}

    def resolved(self) -> dict[str, Any]:
        """Every argument, defaults (the seed's) filled in."""
        args = {"n_factors": 50, "embedding_dropout": 0.02, "hidden": 10, "dropout_rate": 0.2}
        args.update(self.arguments())
        return args

    def call_text(self) -> str:
        """How the network is built, as a student would write it."""
        parts = [str(self.n_users), str(self.n_movies)]
        parts += [f"{key}={value!r}" for key, value in self.arguments().items()]
        return f"RecommenderNet({', '.join(parts)})"


INIT_CONFIGS = (
    NetConfig(7, 11, 4, 0.02, 10, 0.2, seed=0),
    NetConfig(13, 5, 6, 0.1, (8, 3), 0.3, seed=1),
    NetConfig(9, 17, 3, 0.05, (5, 7, 4), 0.5, seed=2),
    NetConfig(6, 10, 5, 0.25, (12,), 0.0, seed=3),
    NetConfig(12, 30, seed=4),  # the seed's defaults: n_factors=50, hidden=10
)

#: Lists only: an int ``hidden`` is Task 1's business, so a mistake there does not cost Task 2.
FORWARD_CONFIGS = (
    NetConfig(7, 11, 4, 0.3, (6,), 0.4, seed=10),
    NetConfig(13, 5, 6, 0.1, (8, 3), 0.3, seed=11),
    NetConfig(9, 17, 3, 0.5, (5, 7, 4), 0.5, seed=12),
)

_MODULE_INTERNALS = frozenset(vars(nn.Module()))


# --------------------------------------------------------------------------- finding modules


def find_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every sub-module of ``model``, registered or not, with a path for messages.

    Registered children are followed as usual; plain ``list``, ``tuple`` and
    ``dict`` attributes are searched too, so layers kept in a Python list are
    found (and can be reported as not registered). The model itself is not
    included. Order: registration order, then attribute order.
    """
    found: list[tuple[str, nn.Module]] = []
    seen = {id(model)}

    def visit(obj: Any, path: str, depth: int) -> None:
        if depth > 8:
            return
        if isinstance(obj, nn.Module):
            if id(obj) in seen:
                return
            seen.add(id(obj))
            found.append((path, obj))
            visit_children(obj, path, depth)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                visit(item, f"{path}[{i}]", depth + 1)
        elif isinstance(obj, dict):
            for key, item in obj.items():
                visit(item, f"{path}[{key!r}]", depth + 1)

    def visit_children(module: nn.Module, prefix: str, depth: int) -> None:
        join = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
        for name, child in module._modules.items():
            if child is not None:
                visit(child, join(name), depth + 1)
        for name, value in vars(module).items():
            if name not in _MODULE_INTERNALS and isinstance(value, (list, tuple, dict)):
                visit(value, join(name), depth + 1)

    visit_children(model, "", 0)
    return found


def _describe(module: nn.Module) -> str:
    if isinstance(module, nn.Embedding):
        return f"Embedding({module.num_embeddings}, {module.embedding_dim})"
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}, {module.out_features})"
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return f"Dropout(p={module.p})"
    return f"{type(module).__name__}()"


def _of_type(modules: Sequence[tuple[str, nn.Module]], kind: type) -> list[tuple[str, nn.Module]]:
    return [(path, m) for path, m in modules if isinstance(m, kind)]


def _match_linear_chain(
    linears: Sequence[tuple[str, nn.Linear]], dims: Sequence[int]
) -> list[tuple[str, nn.Linear]] | None:
    """The Linear layers in chain order ``dims[0] -> dims[1] -> ... -> dims[-1]``, or None if one is missing."""
    chain, used = [], set()
    for n_in, n_out in zip(dims[:-1], dims[1:]):
        match = next(
            ((path, m) for path, m in linears
             if id(m) not in used and m.in_features == n_in and m.out_features == n_out),
            None,
        )
        if match is None:
            return None
        used.add(id(match[1]))
        chain.append(match)
    return chain


def _build(cls: type, config: NetConfig, task: str, purpose: str = "") -> nn.Module:
    """Instantiate the student's class, turning any error into one message."""
    try:
        model = cls(config.n_users, config.n_movies, **config.arguments())
    except Exception as error:  # noqa: BLE001
        hidden = config.resolved()["hidden"]
        if task == TASK_FORWARD:
            fail(
                task,
                f"could not build {config.call_text()} to check forward: __init__ raised "
                f"{describe_error(error)}. Fix Task 1 (__init__) first.",
            )
        cause = not_implemented_cause(error)
        text = str(error)
        if cause is None and isinstance(hidden, int) and ("not subscriptable" in text or "not iterable" in text or "has no len" in text):
            cause = (
                f"hidden={hidden} (an int) means one hidden layer of {hidden} units: turn an int into a "
                "list first, e.g. sizes = [hidden] if isinstance(hidden, int) else list(hidden)."
            )
        fail(task, f"{config.call_text()} raised {describe_error(error)}. {cause or 'Build the layers from the arguments.'}")
    if not isinstance(model, nn.Module):
        fail(task, f"expected {config.call_text()} to be an nn.Module, got a {type_name(model)}. Keep class RecommenderNet(nn.Module).")
    return model


# --------------------------------------------------------------------------- Task 1


def _check_structure(model: nn.Module, config: NetConfig) -> None:
    task = TASK_INIT
    args = config.resolved()
    k, sizes = args["n_factors"], hidden_sizes(args["hidden"])
    call = config.call_text()
    discovered = find_modules(model)
    registered = {id(m) for m in model.modules()}
    loose = [(path, m) for path, m in discovered if id(m) not in registered]
    if loose:
        path = loose[0][0].split("[")[0]
        n_registered = sum(p.numel() for p in model.parameters())
        expected = count_parameters_formula(config.n_users, config.n_movies, k, args["hidden"])
        fail(
            task,
            f"expected every layer to be registered, but {call} keeps {len(loose)} module(s) in the plain "
            f"Python container `self.{path}`, so model.parameters() sees {n_registered} of {expected} "
            "parameters (the optimizer never trains the rest) and model.eval() does not switch their "
            f"dropout off. Wrap the layers: nn.Sequential(*layers) or nn.ModuleList(layers).",
        )
    modules = [(path, m) for path, m in discovered]

    embeddings = _of_type(modules, nn.Embedding)
    if len(embeddings) != 2:
        fail(
            task,
            f"expected two embeddings in {call} (users and movies), found {len(embeddings)}"
            f"{': ' + ', '.join(_describe(m) for _, m in embeddings) if embeddings else ''}. "
            "Create nn.Embedding(n_users, n_factors) and nn.Embedding(n_movies, n_factors).",
        )
    rows = sorted(m.num_embeddings for _, m in embeddings)
    if rows != sorted([config.n_users, config.n_movies]):
        fail(
            task,
            f"expected embeddings with n_users={config.n_users} and n_movies={config.n_movies} rows in {call}, "
            f"found {' and '.join(_describe(m) for _, m in embeddings)}. One row per user in one, one row "
            "per movie in the other: nn.Embedding(n_users, n_factors), nn.Embedding(n_movies, n_factors).",
        )
    dims = sorted({m.embedding_dim for _, m in embeddings})
    if dims != [k]:
        fail(
            task,
            f"expected embeddings of n_factors={k} columns in {call}, found "
            f"{' and '.join(_describe(m) for _, m in embeddings)}. Use nn.Embedding(..., n_factors).",
        )

    linears = _of_type(modules, nn.Linear)
    chain_dims = [2 * k, *sizes, 1]
    if _match_linear_chain(linears, chain_dims) is None:
        found = ", ".join(_describe(m) for _, m in linears) or "none"
        wanted = ", ".join(f"Linear({a}, {b})" for a, b in zip(chain_dims[:-1], chain_dims[1:]))
        if linears and linears[0][1].in_features == k and 2 * k != k:
            cause = (
                "The first hidden layer takes the concatenated user and movie embeddings, "
                "2 * n_factors inputs, not n_factors."
            )
        elif not any(m.out_features == 1 for _, m in linears):
            cause = "The final layer maps the last hidden layer to one output: nn.Linear(hidden[-1], 1)."
        elif len(linears) != len(chain_dims) - 1:
            cause = f"hidden={args['hidden']} asks for {len(sizes)} hidden layer(s), each nn.Linear(n_in, n_out), plus the final layer."
        else:
            cause = "Each layer's input size is the previous layer's output size, starting from 2 * n_factors."
        fail(task, f"expected the Linear layers {wanted} in {call}, found {found}. {cause}")

    n_params = sum(p.numel() for p in model.parameters())
    expected = count_parameters_formula(config.n_users, config.n_movies, k, args["hidden"])
    if n_params != expected:
        fail(
            task,
            f"expected {expected} parameters in {call} (embeddings, hidden layers and final layer, with "
            f"biases), found {n_params}. Keep biases on (the nn.Linear default) and add no other layers.",
        )

    dropouts = _of_type(modules, nn.modules.dropout._DropoutNd)
    actual = Counter(round(m.p, 6) for _, m in dropouts if m.p > 0)
    wanted_p = Counter()
    if args["embedding_dropout"] > 0:
        wanted_p[round(args["embedding_dropout"], 6)] += 1
    if args["dropout_rate"] is not None and args["dropout_rate"] > 0:
        wanted_p[round(args["dropout_rate"], 6)] += len(sizes)
    if actual != wanted_p:
        e, r = args["embedding_dropout"], args["dropout_rate"]
        found = ", ".join(_describe(m) for _, m in dropouts) or "none"
        if e > 0 and actual[round(e, 6)] == 0:
            cause = f"Add the embedding dropout, nn.Dropout(embedding_dropout), with p={e}."
        elif r and actual[round(r, 6)] != len(sizes):
            cause = (
                f"Each hidden layer is Linear, ReLU, then nn.Dropout(dropout_rate): {len(sizes)} hidden "
                f"layer(s) need {len(sizes)} Dropout(p={r})."
            )
        else:
            cause = "Use p=embedding_dropout after the embeddings and p=dropout_rate after each hidden layer."
        expected_text = ", ".join(f"{count} x Dropout(p={p})" for p, count in wanted_p.items()) or "no active dropout"
        fail(task, f"expected {expected_text} in {call}, found {found}. {cause}")


@keep_global_rng
def check_recommender_net_init(cls: type) -> None:
    """Task 1: ``RecommenderNet.__init__`` builds the specified layers, all registered.

    For several configurations (``hidden`` as an int and as a list, with and
    without hidden dropout, the seed's defaults), checks: the constructor
    runs; no layer is kept in a plain Python container (unregistered);
    exactly two embeddings of ``n_factors`` columns, one with ``n_users`` and
    one with ``n_movies`` rows; Linear layers chaining ``2 * n_factors`` through
    the hidden sizes to one output; the parameter count of
    :func:`recsys_ref.nn.count_parameters_formula`; one ``Dropout(embedding_dropout)``
    and one ``Dropout(dropout_rate)`` per hidden layer. Attribute names and
    containers (``nn.Sequential``, ``nn.ModuleList``) are free.

    Raises:
        AssertionError: With one actionable message.
    """
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        fail(TASK_INIT, f"expected RecommenderNet to be a class derived from nn.Module, got {type_name(cls)}.")
    for config in INIT_CONFIGS:
        torch.manual_seed(config.seed)
        model = _build(cls, config, TASK_INIT)
        _check_structure(model, config)


# --------------------------------------------------------------------------- Task 2


def _randomise_reference(reference: RecommenderNet, seed: int) -> None:
    """Give the reference informative weights: outputs spread over the sigmoid's range, not saturated."""
    generator = torch.Generator().manual_seed(5000 + seed)
    with torch.no_grad():
        for embedding in (reference.users, reference.movies):
            embedding.weight.copy_(torch.randn(embedding.weight.shape, generator=generator))
        for module in reference.modules():
            if isinstance(module, nn.Linear):
                std = 1.0 / math.sqrt(module.in_features)
                module.weight.copy_(1.5 * std * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def _copy_reference_weights(model: nn.Module, reference: RecommenderNet, config: NetConfig) -> str | None:
    """Copy the reference's weights into the student's modules; a reason string when they do not match."""
    args = config.resolved()
    modules = find_modules(model)
    embeddings = _of_type(modules, nn.Embedding)
    by_rows = {}
    for _, m in embeddings:
        by_rows.setdefault(m.num_embeddings, []).append(m)
    targets = []
    for source, rows, what in ((reference.users, config.n_users, "users"), (reference.movies, config.n_movies, "movies")):
        candidates = by_rows.get(rows, [])
        if len(candidates) != 1 or candidates[0].embedding_dim != args["n_factors"]:
            return f"no single Embedding({rows}, {args['n_factors']}) for the {what}"
        targets.append((candidates[0], source))
    dims = [2 * args["n_factors"], *hidden_sizes(args["hidden"]), 1]
    chain = _match_linear_chain(_of_type(modules, nn.Linear), dims)
    if chain is None:
        return "the Linear layers do not chain " + " -> ".join(map(str, dims))
    ref_linears = [m for m in reference.hidden if isinstance(m, nn.Linear)] + [reference.fc]
    with torch.no_grad():
        for target, source in targets:
            target.weight.copy_(source.weight)
        for (_, target), source in zip(chain, ref_linears):
            if target.bias is None:
                return f"{_describe(target)} has no bias"
            target.weight.copy_(source.weight)
            target.bias.copy_(source.bias)
    return None


def _set_eval(model: nn.Module) -> None:
    """``eval()`` on the model and on every module it holds, registered or not (Task 1 grades registration)."""
    model.eval()
    for _, module in find_modules(model):
        module.eval()


def _reference_logits(reference: RecommenderNet, users, movies, *, swapped: bool = False, relu: bool = True):
    u, m = reference.users(users), reference.movies(movies)
    x = torch.cat([m, u] if swapped else [u, m], dim=1)
    for layer in reference.hidden:
        if isinstance(layer, nn.ReLU) and not relu:
            continue
        if isinstance(layer, nn.Dropout):
            continue
        x = layer(x)
    return reference.fc(x)


def _forward_cause(out: torch.Tensor, reference: RecommenderNet, users, movies) -> str:
    """The likely cause of wrong forward outputs, by comparing with common mistakes."""
    with torch.no_grad():
        z = _reference_logits(reference, users, movies)
        s = torch.sigmoid(z)
        swapped = 1 + 4 * torch.sigmoid(_reference_logits(reference, users, movies, swapped=True))
        no_relu = 1 + 4 * torch.sigmoid(_reference_logits(reference, users, movies, relu=False))
    if close(out, swapped):
        return "forward concatenates the movie embedding before the user embedding: use torch.cat([users, movies], dim=1)."
    for candidate in (z, 1 + 4 * z, z * 4 + 1, (1 + 4 * z).clamp(1, 5), z.clamp(1, 5)):
        if close(out, candidate):
            return "The sigmoid is missing: apply torch.sigmoid to the final layer's output, then scale it to [1, 5]."
    scalings = (
        (s, "sigmoid(x) alone lies in (0, 1)"),
        (5 * s, "5 * sigmoid(x) lies in (0, 5)"),
        (4 * s, "4 * sigmoid(x) lies in (0, 4)"),
        (1 + s, "1 + sigmoid(x) lies in (1, 2)"),
        (1 + 5 * s, "1 + 5 * sigmoid(x) lies in (1, 6)"),
        (4 * s - 1, "4 * sigmoid(x) - 1 lies in (-1, 3)"),
    )
    for candidate, what in scalings:
        if close(out, candidate):
            return f"Wrong output scaling: {what}. Map sigmoid's (0, 1) to [1, 5] with 1 + 4 * sigmoid(x)."
    if close(out, no_relu):
        return "The ReLU activations are missing: apply ReLU after each hidden Linear layer."
    return (
        "forward must compute 1 + 4 * sigmoid(fc(hidden(dropout(cat([user_emb, movie_emb], dim=1))))): "
        "embed users and movies, concatenate users first, then the dropout, the hidden layers, the final layer, sigmoid, scaling."
    )


def _call(model: nn.Module, users, movies, minmax, where: str) -> torch.Tensor:
    args = (users, movies) if minmax is None else (users, movies, minmax)
    try:
        out = model(*args)
    except Exception as error:  # noqa: BLE001
        text = str(error)
        cause = not_implemented_cause(error)
        if cause is None and "index out of range" in text:
            cause = "Look users up in the users embedding (n_users rows) and movies in the movies embedding."
        elif cause is None and ("cannot be multiplied" in text or "shapes" in text or "size" in text):
            cause = (
                "Concatenate the two embeddings along the feature axis, torch.cat([users, movies], dim=1), "
                "and apply the layers in order: hidden layers, then the final layer."
            )
        fail(TASK_FORWARD, f"forward raised {describe_error(error)} {where}. {cause or 'See the steps in the docstring.'}")
    if not isinstance(out, torch.Tensor):
        fail(TASK_FORWARD, f"expected forward to return a torch.Tensor {where}, got a {type_name(out)}.")
    return out


@keep_global_rng
def check_recommender_net_forward(cls: type) -> None:
    """Task 2: ``RecommenderNet.forward`` computes the seed's rating prediction.

    For several configurations (``hidden`` as a list), builds the student's
    network and a reference :class:`recsys_ref.nn.RecommenderNet`, copies the
    reference's weights into the student's modules (embeddings matched by
    number of rows, Linear layers by their in/out chain) and checks: the
    output is a tensor of shape ``(batch, 1)``; ``eval()`` makes it
    deterministic; it equals the reference's output (with ``minmax`` omitted
    and ``[1, 5]``); forward uses every embedding, Linear and dropout module;
    and every registered parameter receives a gradient.

    Raises:
        AssertionError: With one actionable message, e.g. for the
            concatenation order swapped, the sigmoid missing, a wrong output
            scaling, a squeezed output, or dropout still active after ``eval()``.
    """
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        fail(TASK_FORWARD, f"expected RecommenderNet to be a class derived from nn.Module, got {type_name(cls)}.")
    task = TASK_FORWARD
    batch = 16
    for config in FORWARD_CONFIGS:
        torch.manual_seed(config.seed)
        model = _build(cls, config, TASK_FORWARD)
        reference = RecommenderNet(config.n_users, config.n_movies, **config.arguments())
        _randomise_reference(reference, config.seed)
        reference.eval()
        problem = _copy_reference_weights(model, reference, config)
        if problem is not None:
            fail(
                task,
                f"could not check forward of {config.call_text()}: {problem}, so the layers do not match "
                "Task 1's specification. Fix Task 1 (__init__) first.",
            )
        generator = torch.Generator().manual_seed(6000 + config.seed)
        users = torch.randint(0, config.n_users, (batch,), generator=generator)
        movies = torch.randint(0, config.n_movies, (batch,), generator=generator)
        users[0], movies[0] = config.n_users - 1, config.n_movies - 1  # the last row of each embedding
        where = f"for {config.call_text()} on a batch of {batch}"

        _set_eval(model)
        with torch.no_grad():
            out = _call(model, users, movies, None, where)
            if tuple(out.shape) != (batch, 1):
                if tuple(out.shape) == (batch,):
                    cause = "Keep the final layer's (batch, 1) shape, as the seed does: do not squeeze or flatten the output."
                else:
                    cause = "Return one rating per (user, movie) pair, the final layer's (batch, 1) output after sigmoid and scaling."
                fail(task, f"expected an output of shape (batch, 1) = {(batch, 1)} {where}, got {tuple(out.shape)}. {cause}")
            again = _call(model, users, movies, None, where)
            if not close(out, again, rtol=0, atol=1e-6):
                fail(
                    task,
                    f"expected identical outputs from two calls in eval() mode {where}, got different ones: "
                    "dropout stays active after model.eval(). Use the nn.Dropout modules from __init__ "
                    "(or F.dropout(x, p, training=self.training)).",
                )
            expected = reference(users, movies)
            if not close(out, expected):
                values = plain(out)
                found = f"values from {fmt(float(values.min()))} to {fmt(float(values.max()))}"
                fail(
                    task,
                    f"expected the reference outputs (from {fmt(float(expected.min()))} to "
                    f"{fmt(float(expected.max()))}) {where} after copying the reference weights into your "
                    f"layers, got {found}. {_forward_cause(out, reference, users, movies)}",
                )
            with_range = _call(model, users, movies, [1, 5], where + " with minmax=[1, 5]")
            if not close(with_range.reshape(-1), expected.reshape(-1)):
                fail(
                    task,
                    f"expected the same outputs with minmax=[1, 5] as without it {where}, got different ones. "
                    "minmax=[1, 5] (or None) means the range [1, 5].",
                )

        # Every embedding, Linear and dropout module is used (dropout only shows in training mode).
        called: set[int] = set()
        watched = [
            (path, m) for path, m in find_modules(model)
            if isinstance(m, (nn.Embedding, nn.Linear)) or (isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0)
        ]
        hooks = [m.register_forward_hook(lambda module, inputs, output: called.add(id(module))) for _, m in watched]
        model.train()
        for _, module in find_modules(model):
            module.train()
        try:
            _call(model, users, movies, None, where + " in train() mode")
        finally:
            for hook in hooks:
                hook.remove()
        unused = [(path, m) for path, m in watched if id(m) not in called]
        if unused:
            path, module = unused[0]
            fail(
                task,
                f"expected forward to use every layer {where}, but it never calls {_describe(module)} "
                f"(self.{path}). Apply it in forward, in the order of the docstring.",
            )

        # Every registered parameter receives a gradient.
        model.zero_grad()
        out = _call(model, users, movies, None, where + " in train() mode")
        if not out.requires_grad:
            fail(
                task,
                f"expected an output that carries gradients {where}, but it has none: forward detaches it "
                "(.detach(), .data, .item() or torch.tensor(...)), so training cannot update any layer.",
            )
        out.sum().backward()
        for name, parameter in model.named_parameters():
            if parameter.requires_grad and parameter.grad is None:
                fail(
                    task,
                    f"expected every parameter to receive a gradient after one backward pass {where}, but "
                    f"{name} {tuple(parameter.shape)} got none: forward does not use it (or detaches it).",
                )
