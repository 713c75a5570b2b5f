"""The checks of the assignment ``deep`` (RecommenderNet, the original notebook's model tasks 1-2).

Task 1 (``__init__``) is graded on the modules the student's class builds for
several configurations (recorded by
:func:`recsys_ref.grading.record_recommender_net_init`): exactly two
embeddings (``n_users`` and ``n_movies`` rows, ``n_factors`` columns), the
Linear layers ``2 n_factors -> hidden... -> 1`` and no other layer with
parameters, the parameter count of
:func:`recsys_ref.nn.count_parameters_formula`, one ``Dropout(embedding_dropout)``
and one ``Dropout(dropout_rate)`` per hidden layer (when the rate is above 0),
every layer registered. Attribute names and containers are free, and a
dropout may instead be applied in ``forward`` as ``F.dropout(x, p,
training=self.training)`` with ``p`` an ``__init__`` argument kept on ``self``
(read from the code by :func:`functional_dropouts`: per hidden layer when
called in a loop); ``forward``'s check (Task 2) then tests where it acts.

Task 2 (``forward``) is graded on the outputs recorded by
:func:`recsys_ref.grading.record_recommender_net_forward`, compared with the
specified forward pass computed here *with the student's own modules and
weights*: concatenate the user and the movie embedding (users first), the
embedding dropout, each hidden Linear followed by ReLU (and its dropout), the
final Linear, the sigmoid, and ``low + (high - low) * sigmoid`` with
``minmax = [low, high]`` (``None`` means ``[1, 5]``). Output shape
``(batch, 1)``. In ``eval()`` mode the output is deterministic; in
``train()`` mode the dropouts act where the specification puts them (checked
with rates of 0 and 1, which make the output deterministic). So a mistake in
``__init__`` costs Task 1 only: ``forward`` is graded on whatever layers
``__init__`` built, and when those cannot run, on layers of the specified
shapes attached under the names ``forward`` uses.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from grader.checks._common import STUB_HINT, Context, Failure, Task, close, error_text, fail, fmt, not_implemented
from recsys_ref.grading import deep as records
from recsys_ref.grading.exchange import Bundle
from recsys_ref.nn import count_parameters_formula, hidden_sizes

TASK_INIT = "Task 1 (RecommenderNet.__init__)"
TASK_FORWARD = "Task 2 (RecommenderNet.forward)"
DEFAULTS = {"n_factors": 50, "embedding_dropout": 0.02, "hidden": 10, "dropout_rate": 0.2}
BATCH = 16


@dataclass(frozen=True)
class NetConfig:
    """One way to build the network; ``None`` leaves an argument at its default."""

    n_users: int
    n_movies: int
    n_factors: int | None = None
    embedding_dropout: float | None = None
    hidden: int | tuple[int, ...] | None = None
    dropout_rate: float | None = None

    def arguments(self) -> dict[str, Any]:
        given = {"n_factors": self.n_factors, "embedding_dropout": self.embedding_dropout,
                 "hidden": list(self.hidden) if isinstance(self.hidden, tuple) else self.hidden,
                 "dropout_rate": self.dropout_rate}
        return {key: value for key, value in given.items() if value is not None}

    def resolved(self) -> dict[str, Any]:
        return {**DEFAULTS, **self.arguments()}

    def call_text(self) -> str:
        parts = [str(self.n_users), str(self.n_movies)] + [f"{k}={v!r}" for k, v in self.arguments().items()]
        return f"RecommenderNet({', '.join(parts)})"

    def to_probe(self, seed: int) -> dict[str, Any]:
        return {"n_users": self.n_users, "n_movies": self.n_movies, "kwargs": self.arguments(), "seed": seed,
                "call": self.call_text()}

    @classmethod
    def from_probe(cls, config: Mapping[str, Any]) -> "NetConfig":
        kwargs = dict(config["kwargs"])
        if isinstance(kwargs.get("hidden"), list):
            kwargs["hidden"] = tuple(kwargs["hidden"])
        return cls(config["n_users"], config["n_movies"], **kwargs)


def _sizes(generator: torch.Generator) -> tuple[int, int]:
    n_users = int(torch.randint(5, 15, (1,), generator=generator))
    return n_users, n_users + int(torch.randint(3, 20, (1,), generator=generator))


# --------------------------------------------------------------------------- Task 1

#: The calls that apply dropout functionally (``torch.dropout(x, p, train)`` too).
FUNCTIONAL_DROPOUT = ("F.dropout", "nn.functional.dropout", "torch.nn.functional.dropout", "functional.dropout",
                      "torch.dropout")
#: The arguments of ``__init__`` that are dropout rates.
RATE_ARGUMENTS = ("embedding_dropout", "dropout_rate")


def _class_methods(tree: ast.AST) -> tuple[ast.FunctionDef | None, ast.FunctionDef | None]:
    """``__init__`` and ``forward`` of the class that defines ``forward`` (RecommenderNet first)."""
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    classes.sort(key=lambda cls: cls.name != "RecommenderNet")
    for cls in classes:
        methods = {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}
        if "forward" in methods:
            return methods.get("__init__"), methods["forward"]
    return None, None


def _rate_name(value: ast.expr | None) -> str | None:
    """The rate argument an expression passes on unchanged but for a default: ``dropout_rate``,
    ``float(dropout_rate)``, ``dropout_rate or 0.0``, ``0.0 if dropout_rate is None else dropout_rate``;
    ``None`` for anything else (a hard-coded rate is not the argument)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "float" \
            and len(value.args) == 1:
        return _rate_name(value.args[0])
    if isinstance(value, ast.Name):
        return value.id if value.id in RATE_ARGUMENTS else None
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) and len(value.values) == 2 \
            and isinstance(value.values[1], ast.Constant):
        return _rate_name(value.values[0])
    if isinstance(value, ast.IfExp):
        branches = [b for b in (value.body, value.orelse) if not isinstance(b, ast.Constant)]
        if len(branches) == 1:
            return _rate_name(branches[0])
    return None


def _rate_attributes(init: ast.FunctionDef | None) -> dict[str, str]:
    """``self`` attribute -> the rate argument ``__init__`` stores in it (``self.p = dropout_rate``, also with a
    default for ``None``: ``self.p = dropout_rate or 0.0``)."""
    if init is None:
        return {}
    stored: dict[str, str] = {}
    for node in ast.walk(init):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        name = _rate_name(getattr(node, "value", None))
        for target in targets:
            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"):
                if name is not None:
                    stored[target.attr] = name
                else:
                    stored.pop(target.attr, None)
    return stored


def functional_dropouts(source: str) -> list[dict[str, Any]]:
    """The dropouts ``forward`` applies as ``F.dropout(x, p, training=self.training)``, read from its code.

    Only a rate ``__init__`` received and kept on ``self`` counts (``self.p = dropout_rate``, then
    ``F.dropout(x, self.p, ...)`` or ``p = self.p; F.dropout(x, p=p, ...)``): a hard-coded rate is not the
    argument. Returns ``{"rate": "embedding_dropout" | "dropout_rate", "per_layer": called in a loop}`` for
    each call.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    init, forward = _class_methods(tree)
    if forward is None:
        return []
    stored = _rate_attributes(init)
    local: dict[str, str] = {}
    for node in ast.walk(forward):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self"
                    and value.attr in stored):
                local[node.targets[0].id] = stored[value.attr]

    def rate(expr: ast.AST | None) -> str | None:
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            return stored.get(expr.attr)
        if isinstance(expr, ast.Name):
            return local.get(expr.id)
        return None

    found = []

    def visit(node: ast.AST, in_loop: bool) -> None:
        if isinstance(node, ast.Call) and ast.unparse(node.func) in FUNCTIONAL_DROPOUT:
            given = next((k.value for k in node.keywords if k.arg == "p"), node.args[1] if len(node.args) > 1 else None)
            name = rate(given)
            if name:
                found.append({"rate": name, "per_layer": in_loop})
        for child in ast.iter_child_nodes(node):
            visit(child, in_loop or isinstance(node, (ast.For, ast.While, ast.comprehension)))

    for statement in forward.body:
        visit(statement, False)
    return found


def init_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Configurations: ``hidden`` as an int and as lists, with and without hidden dropout, and the defaults.

    The probe also carries the dropouts ``forward`` applies functionally (:func:`functional_dropouts`).
    """
    def pick(low: int, high: int) -> int:
        return int(torch.randint(low, high, (1,), generator=generator))

    configs = [
        NetConfig(*_sizes(generator), pick(3, 7), 0.02, pick(6, 12), 0.2),
        NetConfig(*reversed(_sizes(generator)), pick(3, 7), 0.1, (pick(6, 10), pick(2, 5)), 0.3),
        NetConfig(*_sizes(generator), pick(2, 5), 0.05, (pick(4, 7), pick(6, 9), pick(3, 5)), 0.5),
        NetConfig(*_sizes(generator), pick(4, 7), 0.25, (pick(9, 14),), 0.0),
        NetConfig(*_sizes(generator)),  # the original notebook's defaults: n_factors=50, hidden=10
    ]
    bundle = Bundle({"configs": [c.to_probe(seed=i) for i, c in enumerate(configs)],
                     "functional_dropouts": functional_dropouts((sources or {}).get("recommender-net", ""))})
    return {records.INIT: bundle}


def _describe(module: Mapping[str, Any]) -> str:
    kind = module["kind"]
    if kind == "Embedding":
        return f"Embedding({module['num_embeddings']}, {module['embedding_dim']})"
    if kind == "Linear":
        return f"Linear({module['in_features']}, {module['out_features']})"
    if kind == "Dropout":
        return f"Dropout(p={module['p']:g})"
    return module["type"].rpartition(".")[2] + "()"


def _of_kind(modules: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in modules if m["kind"] == kind]


def _linear_chain(linears: list[dict[str, Any]], dims: list[int]) -> list[dict[str, Any]] | None:
    """The Linear layers in chain order ``dims[0] -> ... -> dims[-1]``, or None when one is missing."""
    chain, used = [], set()
    for n_in, n_out in zip(dims[:-1], dims[1:]):
        match = next((m for m in linears if m["path"] not in used and m["in_features"] == n_in
                      and m["out_features"] == n_out), None)
        if match is None:
            return None
        used.add(match["path"])
        chain.append(match)
    return chain


def check_structure(facts: Mapping[str, Any], config: NetConfig,
                    functional: list[Mapping[str, Any]] | None = None) -> None:
    """Raise :class:`Failure` unless the recorded modules are those Task 1 specifies for ``config``.

    ``functional``: the dropouts ``forward`` applies with ``F.dropout`` (:func:`functional_dropouts`); a rate's
    dropouts may be modules, functional calls, or both together.
    """
    args = config.resolved()
    k, sizes = args["n_factors"], hidden_sizes(args["hidden"])
    call = config.call_text()
    if facts["build"] != "student":
        error = facts.get("error") or {}
        cause = STUB_HINT if not_implemented(error) else None
        message = error.get("message", "")
        if cause is None and "'NoneType' object has no attribute 'data'" in message:
            cause = ("A Linear layer without a bias (bias=False): the provided _init sets every bias. Keep the "
                     "default, bias=True.")
        if cause is None and isinstance(args["hidden"], int) and any(
                text in message for text in ("not subscriptable", "not iterable", "has no len")):
            cause = (f"hidden={args['hidden']} (an int) means one hidden layer of {args['hidden']} units: turn an "
                     "int into a list first, e.g. sizes = [hidden] if isinstance(hidden, int) else list(hidden).")
        fail(f"{call} raised {error_text(error) if error else 'an error'}. {cause or 'Build the layers from the arguments.'}",
             "deep-architecture")
    if not facts["is_module"]:
        fail(f"expected {call} to be an nn.Module, got a {facts['type']}. Keep class RecommenderNet(nn.Module).",
             "deep-architecture")
    modules = facts["modules"]
    loose = [m for m in modules if not m["registered"] and m["kind"] != "container"]
    if loose:
        path = loose[0]["path"].split("[")[0]
        expected = count_parameters_formula(config.n_users, config.n_movies, k, args["hidden"])
        fail(f"expected every layer to be registered, but {call} keeps {len(loose)} module(s) in the plain Python "
             f"container `self.{path}`, so model.parameters() sees {facts['n_parameters']} of {expected} parameters "
             "(the optimizer never trains the rest) and model.eval() does not switch their dropout off. Wrap the "
             "layers: nn.Sequential(*layers) or nn.ModuleList(layers).", "deep-registration")
    embeddings = _of_kind(modules, "Embedding")
    if len(embeddings) != 2:
        listed = ", ".join(_describe(m) for m in embeddings)
        fail(f"expected two embeddings in {call} (users and movies), found {len(embeddings)}"
             f"{': ' + listed if listed else ''}. Create nn.Embedding(n_users, n_factors) and "
             "nn.Embedding(n_movies, n_factors).", "deep-architecture")
    if sorted(m["num_embeddings"] for m in embeddings) != sorted([config.n_users, config.n_movies]):
        fail(f"expected embeddings with n_users={config.n_users} and n_movies={config.n_movies} rows in {call}, found "
             f"{' and '.join(_describe(m) for m in embeddings)}. One row per user in one, one row per movie in the "
             "other: nn.Embedding(n_users, n_factors), nn.Embedding(n_movies, n_factors).", "deep-architecture")
    if {m["embedding_dim"] for m in embeddings} != {k}:
        fail(f"expected embeddings of n_factors={k} columns in {call}, found "
             f"{' and '.join(_describe(m) for m in embeddings)}. Use nn.Embedding(..., n_factors).", "deep-architecture")
    linears = _of_kind(modules, "Linear")
    dims = [2 * k, *sizes, 1]
    chain = _linear_chain(linears, dims)
    wanted = ", ".join(f"Linear({a}, {b})" for a, b in zip(dims[:-1], dims[1:]))
    found = ", ".join(_describe(m) for m in linears) or "none"
    if chain is None:
        if linears and linears[0]["in_features"] == k:
            cause = ("The first hidden layer takes the concatenated user and movie embeddings, 2 * n_factors inputs, "
                     "not n_factors.")
        elif not any(m["out_features"] == 1 for m in linears):
            cause = "The final layer maps the last hidden layer to one output: nn.Linear(hidden[-1], 1)."
        elif len(linears) != len(dims) - 1:
            cause = (f"hidden={args['hidden']} asks for {len(sizes)} hidden layer(s), each nn.Linear(n_in, n_out), "
                     "plus the final layer.")
        else:
            cause = "Each layer's input size is the previous layer's output size, starting from 2 * n_factors."
        fail(f"expected the Linear layers {wanted} in {call}, found {found}. {cause}", "deep-architecture")
    if len(linears) != len(chain):
        fail(f"expected exactly the Linear layers {wanted} in {call}, found {found}: no layers beyond the "
             "specification.", "deep-architecture")
    if any(m.get("bias") is False for m in chain):
        fail(f"expected Linear layers with biases in {call} (the nn.Linear default); remove bias=False.",
             "deep-architecture")
    expected = count_parameters_formula(config.n_users, config.n_movies, k, args["hidden"])
    if facts["n_parameters"] != expected:
        others = [_describe(m) for m in modules if m["kind"] == "other" and m.get("n_parameters")]
        fail(f"expected {expected} parameters in {call} (embeddings, hidden layers and final layer, with biases), "
             f"found {facts['n_parameters']}{' (other layers: ' + ', '.join(others) + ')' if others else ''}. "
             "Add no layers beyond the specification.", "deep-architecture")
    dropouts = _of_kind(modules, "Dropout")
    actual = Counter(round(m["p"], 6) for m in dropouts if m["p"] > 0)
    wanted_p: Counter = Counter()
    if args["embedding_dropout"] > 0:
        wanted_p[round(args["embedding_dropout"], 6)] += 1
    if args["dropout_rate"] is not None and args["dropout_rate"] > 0:
        wanted_p[round(args["dropout_rate"], 6)] += len(sizes)
    applied: Counter = Counter()  # applied with F.dropout in forward
    embedding_calls = 0
    for use in functional or ():
        p = args.get(use["rate"])
        if p is None or p <= 0:
            continue
        if use["rate"] == "embedding_dropout":
            embedding_calls += 1
            applied[round(p, 6)] += 1 if embedding_calls == 1 else 0  # one embedding dropout, however many calls
        else:
            applied[round(p, 6)] += len(sizes) if use["per_layer"] else 1

    def ok(p: float) -> bool:
        return wanted_p[p] in (actual[p], applied[p], actual[p] + applied[p])

    if not all(ok(p) for p in set(wanted_p) | set(actual) | set(applied)):
        e, r = args["embedding_dropout"], args["dropout_rate"]
        listed = ", ".join([_describe(m) for m in dropouts]
                           + [f"{n} x F.dropout(p={p:g}) in forward" for p, n in applied.items() if n]) or "none"
        if e > 0 and not ok(round(e, 6)) and actual[round(e, 6)] + applied[round(e, 6)] == 0:
            cause = (f"Add the embedding dropout, nn.Dropout(embedding_dropout), with p={e} (or apply "
                     "F.dropout(x, self.<rate>, training=self.training) in forward, with self.<rate> = "
                     "embedding_dropout).")
        elif r and not ok(round(r, 6)):
            cause = (f"Each hidden layer is Linear, ReLU, then nn.Dropout(dropout_rate): {len(sizes)} hidden layer(s) "
                     f"need {len(sizes)} Dropout(p={r}) (modules, or F.dropout(x, self.<rate>, "
                     "training=self.training) after each hidden layer in forward's loop).")
        else:
            cause = "Use p=embedding_dropout after the embeddings and p=dropout_rate after each hidden layer."
        expected_text = ", ".join(f"{n} x Dropout(p={p})" for p, n in wanted_p.items()) or "no active dropout"
        fail(f"expected {expected_text} in {call}, found {listed}. {cause}", "deep-dropout")


def check_init(context: Context) -> None:
    """Task 1 (see the module docstring)."""
    record = context.record(records.INIT, "RecommenderNet")
    if not record.meta.get("is_module_class"):
        fail(f"expected RecommenderNet to be a class derived from nn.Module, got {record.meta.get('type')}.",
             "deep-architecture")
    configs = context.probes[records.INIT].meta["configs"]
    if len(record.meta["configs"]) != len(configs):
        fail("the grader's test of __init__ did not finish (the kernel stopped during it).")
    functional = context.probes[records.INIT].meta.get("functional_dropouts", [])
    for probe_config, facts in zip(configs, record.meta["configs"]):
        check_structure(facts, NetConfig.from_probe(probe_config), functional)


# --------------------------------------------------------------------------- Task 2: the probe


def fallback_names(source: str) -> dict[str, str] | None:
    """The attribute names ``forward`` calls, mapped to their role, or None when they cannot be told apart.

    Roles: ``users``/``movies`` (called on forward's first/second argument),
    then, in order of use, ``drop`` (optional), ``hidden`` and ``fc``.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    forward = next((node for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) for node in cls.body
                    if isinstance(node, ast.FunctionDef) and node.name == "forward"), None)
    if forward is None or len(forward.args.args) < 3:
        return None
    first, second = forward.args.args[1].arg, forward.args.args[2].arg
    uses: list[tuple[int, int, str, ast.AST]] = []
    for node in ast.walk(forward):
        target = node.func if isinstance(node, ast.Call) else node.iter if isinstance(node, ast.For) else None
        if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"):
            uses.append((node.lineno, node.col_offset, target.attr, node))
    uses.sort(key=lambda item: item[:2])
    roles: dict[str, str] = {}
    for _, _, attr, node in uses:
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name):
            if node.args[0].id == first and "users" not in roles.values():
                roles[attr] = "users"
            elif node.args[0].id == second and "movies" not in roles.values():
                roles[attr] = "movies"
    rest = [attr for _, _, attr, _ in uses if attr not in roles]
    rest = list(dict.fromkeys(rest))
    if set(roles.values()) != {"users", "movies"} or len(rest) not in (2, 3):
        return None
    for attr, role in zip(rest, ("drop", "hidden", "fc")[3 - len(rest):]):
        roles[attr] = role
    return roles


def fallback_modules(names: Mapping[str, str], config: NetConfig) -> dict[str, Any]:
    """Plain torch.nn layers of the specified shapes under ``forward``'s attribute names (see :func:`fallback_names`)."""
    args = config.resolved()
    k, sizes, p = args["n_factors"], hidden_sizes(args["hidden"]), args["dropout_rate"] or 0.0
    hidden: list[dict[str, Any]] = []
    n_in = 2 * k
    for n_out in sizes:
        hidden += [{"Linear": [n_in, n_out]}, {"ReLU": []}] + ([{"Dropout": p}] if p > 0 else [])
        n_in = n_out
    layers = {"users": {"Embedding": [config.n_users, k]}, "movies": {"Embedding": [config.n_movies, k]},
              "drop": {"Dropout": args["embedding_dropout"]}, "hidden": {"Sequential": hidden},
              "fc": {"Linear": [n_in, 1]}}
    return {attr: layers[role] for attr, role in names.items()}


#: (hidden, embedding_dropout, dropout_rate, what the train()-mode run shows)
FORWARD_SHAPES = (
    ((6,), 0.3, 0.4, "rates in (0, 1): dropout active in train() only"),
    ((8, 3), 1.0, 0.0, "embedding dropout of 1: the embeddings are zeroed before the hidden layers"),
    ((5, 7, 4), 0.0, 1.0, "hidden dropout of 1: each hidden layer's output is zeroed"),
)
RANGES = (None, [1, 5], [0, 10])


def forward_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Configurations with list ``hidden`` (an int is Task 1's business), random inputs, fallback modules."""
    names = fallback_names((sources or {}).get("recommender-net", ""))
    bundle = Bundle({"configs": [], "functional_dropouts": functional_dropouts((sources or {}).get("recommender-net", ""))})
    for i, (hidden, e, p) in enumerate((h, e, p) for h, e, p, _ in FORWARD_SHAPES):
        n_users, n_movies = _sizes(generator)
        config = NetConfig(n_users, n_movies, int(torch.randint(3, 7, (1,), generator=generator)), e, hidden, p)
        users = torch.randint(0, n_users, (BATCH,), generator=generator)
        movies = torch.randint(0, n_movies, (BATCH,), generator=generator)
        users[0], movies[0] = n_users - 1, n_movies - 1  # the last row of each embedding
        entry = config.to_probe(seed=10 + i)
        entry.update(weight_seed=int(torch.randint(0, 2**31, (1,), generator=generator)), train_seed=20 + i,
                     users={"tensor": bundle.add_tensor("t", users)}, movies={"tensor": bundle.add_tensor("t", movies)},
                     ranges=list(RANGES), fallback=fallback_modules(names, config) if names else None)
        bundle.meta["configs"].append(entry)
    return {records.FORWARD: bundle}


# --------------------------------------------------------------------------- Task 2: the check


@dataclass
class Layers:
    """The student's (or fallback) layers, as the specified forward pass uses them."""

    users: torch.Tensor
    movies: torch.Tensor
    chain: list[tuple[torch.Tensor, torch.Tensor]]  # (weight, bias) of each Linear, the final one last

    def logits(self, users: torch.Tensor, movies: torch.Tensor, *, zero_embeddings: bool = False,
               zero_hidden: bool = False, swapped: bool = False, relu: bool = True) -> torch.Tensor:
        u, m = self.users[users], self.movies[movies]
        x = torch.cat([m, u] if swapped else [u, m], dim=1)
        if zero_embeddings:
            x = torch.zeros_like(x)
        for weight, bias in self.chain[:-1]:
            x = x @ weight.T + bias
            x = torch.relu(x) if relu else x
            if zero_hidden:
                x = torch.zeros_like(x)
        weight, bias = self.chain[-1]
        return x @ weight.T + bias

    def rating(self, users: torch.Tensor, movies: torch.Tensor, minmax: Any = None, **options: bool) -> torch.Tensor:
        low, high = (1.0, 5.0) if minmax is None else (float(minmax[0]), float(minmax[1]))
        return low + (high - low) * torch.sigmoid(self.logits(users, movies, **options))


@dataclass
class RegisteredLayers:
    """The student's layers applied in the order ``__init__`` registered them (their own activations included).

    The other reading of a network whose hidden stack is not exactly "Linear, ReLU" per layer (an extra
    Linear without an activation, an ``nn.Sigmoid`` module in the head): ``forward`` that runs the layers
    ``__init__`` built, in order, does what the task says with them.
    """

    users: torch.Tensor
    movies: torch.Tensor
    steps: list[tuple[str, tuple[torch.Tensor, torch.Tensor] | None]]  # ("linear", (w, b)), ("relu"|"sigmoid", None)

    @property
    def chain(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [weights for kind, weights in self.steps if kind == "linear"]

    def rating(self, users: torch.Tensor, movies: torch.Tensor, minmax: Any = None, *, zero_embeddings: bool = False,
               zero_hidden: bool = False, **_: bool) -> torch.Tensor:
        low, high = (1.0, 5.0) if minmax is None else (float(minmax[0]), float(minmax[1]))
        x = torch.cat([self.users[users], self.movies[movies]], dim=1)
        if zero_embeddings:
            x = torch.zeros_like(x)
        squashed = False
        for kind, weights in self.steps:
            if kind == "linear":
                x = x @ weights[0].T + weights[1]
            elif kind == "relu":
                x = torch.relu(x)
                if zero_hidden:
                    x = torch.zeros_like(x)
            elif kind == "sigmoid":
                x, squashed = torch.sigmoid(x), True
        return low + (high - low) * (x if squashed else torch.sigmoid(x))


def _registered_steps(modules: list[dict[str, Any]], record: Bundle):
    steps = []
    for module in modules:
        kind, name = module["kind"], module["type"].rpartition(".")[2]
        if kind == "Linear":
            steps.append(("linear", _weights(module, record)))
        elif kind == "ReLU":
            steps.append(("relu", None))
        elif kind == "other" and name == "Sigmoid":
            steps.append(("sigmoid", None))
        elif kind in ("Dropout", "Embedding", "container"):
            continue
        else:
            return None  # a layer this reading cannot follow
    return steps if any(kind == "linear" for kind, _ in steps) else None


def _weights(module: Mapping[str, Any], record: Bundle) -> tuple[torch.Tensor, torch.Tensor]:
    weight = record.tensors[module["weight"]]
    bias = record.tensors[module["bias_tensor"]] if "bias_tensor" in module else torch.zeros(weight.shape[0], dtype=weight.dtype)
    return weight, bias


def _chains(linears: list[dict[str, Any]], start: int) -> list[list[dict[str, Any]]]:
    """Linear chains from ``start`` inputs to one output: through every Linear (in order) and the shortest."""
    found = []
    if linears and linears[0]["in_features"] == start and linears[-1]["out_features"] == 1 and all(
            a["out_features"] == b["in_features"] for a, b in zip(linears, linears[1:])):
        found.append(list(linears))
    paths = [[m] for m in linears if m["in_features"] == start]
    for _ in range(len(linears)):
        done = [p for p in paths if p[-1]["out_features"] == 1]
        if done:
            found.append(done[0])
            break
        paths = [p + [m] for p in paths for m in linears if m not in p and m["in_features"] == p[-1]["out_features"]]
    unique = []
    for chain in found:
        if [m["path"] for m in chain] not in [[m["path"] for m in c] for c in unique]:
            unique.append(chain)
    return unique


def _layer_options(facts: Mapping[str, Any], config: NetConfig, record: Bundle, *, registered: bool = False) -> list:
    """Every way to read the recorded modules as the specified network (none when they cannot be).

    ``registered``: also the layers in the order ``__init__`` registered them (:class:`RegisteredLayers`);
    only for a network whose ``__init__`` deviates from the specification (with the specified layers,
    ``forward`` must apply the specified activations itself).
    """
    modules = facts["modules"]
    embeddings = _of_kind(modules, "Embedding")
    if len(embeddings) < 2:
        return []
    def nearest(rows: int, exclude: dict | None) -> dict[str, Any]:
        candidates = [m for m in embeddings if m is not exclude and m["num_embeddings"] >= rows]
        return min(candidates or [m for m in embeddings if m is not exclude], key=lambda m: abs(m["num_embeddings"] - rows))
    users = nearest(config.n_users, None)
    movies = nearest(config.n_movies, users)
    options: list = []
    for chain in _chains(_of_kind(modules, "Linear"), users["embedding_dim"] + movies["embedding_dim"]):
        options.append(Layers(record.tensors[users["weight"]], record.tensors[movies["weight"]],
                              [_weights(m, record) for m in chain]))
    steps = _registered_steps(modules, record) if registered else None
    if steps is not None:
        options.append(RegisteredLayers(record.tensors[users["weight"]], record.tensors[movies["weight"]], steps))
    return options


def _forward_cause(out: torch.Tensor, layers: Layers, users: torch.Tensor, movies: torch.Tensor) -> str:
    """The likely cause of wrong forward outputs, by comparing with common mistakes."""
    z = layers.logits(users, movies)
    s = torch.sigmoid(z)
    if close(out, layers.rating(users, movies, swapped=True)):
        return "forward concatenates the movie embedding before the user embedding: use torch.cat([users, movies], dim=1)."
    for candidate in (z, 1 + 4 * z, (1 + 4 * z).clamp(1, 5), z.clamp(1, 5)):
        if close(out, candidate):
            return "The sigmoid is missing: apply torch.sigmoid to the final layer's output, then scale it to [1, 5]."
    for candidate, what in ((s, "sigmoid(x) alone lies in (0, 1)"), (5 * s, "5 * sigmoid(x) lies in (0, 5)"),
                            (4 * s, "4 * sigmoid(x) lies in (0, 4)"), (1 + s, "1 + sigmoid(x) lies in (1, 2)"),
                            (1 + 5 * s, "1 + 5 * sigmoid(x) lies in (1, 6)"), (4 * s - 1, "4 * sigmoid(x) - 1 lies in (-1, 3)")):
        if close(out, candidate):
            return f"Wrong output scaling: {what}. Map sigmoid's (0, 1) to [1, 5] with 1 + 4 * sigmoid(x)."
    if close(out, layers.rating(users, movies, relu=False)):
        return "The ReLU activations are missing: apply ReLU after each hidden Linear layer."
    return ("forward must compute low + (high - low) * sigmoid(fc(hidden(dropout(cat([user_emb, movie_emb], dim=1))))): "
            "embed users and movies, concatenate users first, then the dropout, the hidden layers, the final layer, "
            "sigmoid, scaling.")


def _output(encoded: Mapping[str, Any], record: Bundle, where: str) -> torch.Tensor:
    if encoded.get("kind") == "error":
        message = error_text(encoded)
        if not_implemented(encoded):
            cause = STUB_HINT
        elif "index out of range" in message:
            cause = "Look users up in the users embedding (n_users rows) and movies in the movies embedding."
        elif any(text in message for text in ("cannot be multiplied", "shapes", "size")):
            cause = ("Concatenate the two embeddings along the feature axis, torch.cat([users, movies], dim=1), and "
                     "apply the layers in order: hidden layers, then the final layer.")
        else:
            cause = "See the steps in the task's text."
        fail(f"forward raised {message} {where}. {cause}", "deep-architecture")
    if encoded.get("kind") != "tensor" or encoded.get("type") not in ("torch.Tensor", "torch.nn.Parameter"):
        fail(f"expected forward to return a torch.Tensor {where}, got {encoded.get('type', 'nothing')}.",
             "deep-architecture")
    shape = tuple(encoded["shape"])
    if shape != (BATCH, 1):
        cause = ("Keep the final layer's (batch, 1) shape, as the original notebook does: do not squeeze or flatten the output."
                 if shape == (BATCH,) else "Return one rating per (user, movie) pair, the final layer's (batch, 1) output "
                 "after sigmoid and scaling.")
        fail(f"expected an output of shape (batch, 1) = {(BATCH, 1)} {where}, got {shape}. {cause}", "deep-architecture")
    return record.tensors[encoded["tensor"]]


def _matches(option, out: torch.Tensor, users: torch.Tensor, movies: torch.Tensor) -> bool:
    """Whether ``out`` is what ``option`` computes (a reading whose shapes do not fit computes nothing)."""
    try:
        return close(out, option.rating(users, movies))
    except RuntimeError:
        return False


def _check_run(facts: Mapping[str, Any], probe_config: Mapping[str, Any], probe: Bundle, record: Bundle,
               strict_dropout: bool) -> None:
    """Raise :class:`Failure` unless the recorded run of ``forward`` matches the specification on its layers."""
    config = NetConfig.from_probe(probe_config)
    call = config.call_text()
    if not facts.get("is_module"):
        error = facts.get("error") or facts.get("fallback_error")
        fail(f"could not check forward: {call} raised {error_text(error) if error else 'an error'}, and forward "
             "could not be run on layers of the specified shapes either (it uses attributes the grader cannot "
             "recognise). Fix Task 1 (__init__) first.", "deep-architecture")
    users, movies = probe.tensors[probe_config["users"]["tensor"]], probe.tensors[probe_config["movies"]["tensor"]]
    where = f"for {call} on a batch of {BATCH}"
    options = _layer_options(facts, config, record, registered=not strict_dropout)
    if not any(isinstance(option, Layers) for option in options):
        fail(f"could not check forward of {call}: its layers cannot be read as two embeddings and a chain of Linear "
             "layers ending in one output. Fix Task 1 (__init__) first.", "deep-architecture")
    outputs = [(entry["minmax"], _output(entry["output"], record, where + ("" if entry["minmax"] is None
                                                                          else f" with minmax={entry['minmax']}")))
               for entry in facts["eval"]]
    again = _output(facts["eval_again"], record, where)
    if not close(outputs[0][1], again, rtol=0, atol=1e-6):
        fail(f"expected identical outputs from two calls in eval() mode {where}, got different ones: dropout stays "
             "active after model.eval(). Use the nn.Dropout modules from __init__ (or F.dropout(x, p, "
             "training=self.training)).", "deep-dropout")
    layers = next((option for option in options if _matches(option, outputs[0][1], users, movies)), None)
    if layers is None:
        options = [option for option in options if isinstance(option, Layers)]
        expected = options[0].rating(users, movies)
        fail(f"expected outputs from {fmt(float(expected.min()))} to {fmt(float(expected.max()))} {where} (computed "
             f"with your layers' weights), got values from {fmt(float(outputs[0][1].min()))} to "
             f"{fmt(float(outputs[0][1].max()))}. {_forward_cause(outputs[0][1], options[0], users, movies)}",
             "deep-architecture")
    for minmax, out in outputs[1:]:
        if not close(out, layers.rating(users, movies, minmax)):
            low, high = minmax
            fail(f"expected outputs in [{low}, {high}] {where} with minmax={minmax}, got values from "
                 f"{fmt(float(out.min()))} to {fmt(float(out.max()))}. minmax=[low, high] is the rating range: "
                 "return low + (high - low) * sigmoid(...); None means [1, 5].", "deep-output-range")
    if strict_dropout:
        e, p = config.resolved()["embedding_dropout"], config.resolved()["dropout_rate"]
        if e in (0.0, 1.0) and p in (0.0, 1.0):
            train = _output(facts["train"], record, where + " in train() mode")
            expected = layers.rating(users, movies, zero_embeddings=e == 1.0, zero_hidden=p == 1.0)
            if not close(train, expected):
                what = ("the embedding dropout (p=1 here) must act on the concatenated embeddings, before the hidden layers"
                        if e == 1.0 else "each hidden layer's dropout (p=1 here) must act after that layer's ReLU")
                fail(f"expected dropout where the specification puts it {where} in train() mode: {what}. Apply "
                     "self.drop (or F.dropout(x, p, training=self.training)) to torch.cat([users, movies], dim=1), "
                     "and run the hidden layers with their dropouts.", "deep-dropout")
    for module in _of_kind(facts["modules"], "Embedding") + _of_kind(facts["modules"], "Linear"):
        if module["path"] not in facts.get("called", []) and any(
                record.tensors[module["weight"]] is w for w, _ in layers.chain):
            fail(f"expected forward to use every layer {where}, but it never calls {_describe(module)} "
                 f"(self.{module['path']}).", "deep-architecture")
    if facts.get("train", {}).get("kind") == "tensor" and not facts["train"].get("requires_grad"):
        fail(f"expected an output that carries gradients {where}, but it has none: forward detaches it (.detach(), "
             ".data, .item() or torch.tensor(...)), so training cannot update any layer.", "deep-architecture")
    missing = [name for name in facts.get("without_gradient", [])
               if not any(name.startswith(m["path"] + ".") for m in facts["modules"]
                          if m["kind"] == "Linear" and all(record.tensors[m["weight"]] is not w for w, _ in layers.chain))]
    if missing:
        fail(f"expected every parameter to receive a gradient after one backward pass {where}, but {missing[0]} got "
             "none: forward does not use it (or detaches it).", "deep-architecture")


def check_forward(context: Context) -> None:
    """Task 2 (see the module docstring)."""
    record = context.record(records.FORWARD, "RecommenderNet.forward")
    if not record.meta.get("is_module_class"):
        fail(f"expected RecommenderNet to be a class derived from nn.Module, got {record.meta.get('type')}.",
             "deep-architecture")
    probe = context.probes[records.FORWARD]
    if len(record.meta["configs"]) != len(probe.meta["configs"]):
        fail("the grader's test of forward did not finish (the kernel stopped during it).")
    for probe_config, facts in zip(probe.meta["configs"], record.meta["configs"]):
        config = NetConfig.from_probe(probe_config)
        try:
            structure_ok = facts.get("build") == "student" and facts.get("is_module") and _structure_ok(
                facts, config, probe.meta.get("functional_dropouts", []))
        except Failure:
            structure_ok = False
        try:
            _check_run(facts, probe_config, probe, record, strict_dropout=bool(structure_ok))
            continue
        except Failure as failure:
            own = failure
        fallback = facts.get("fallback_run")
        if structure_ok or not fallback or not fallback.get("is_module"):
            raise own
        _check_run(fallback, probe_config, probe, record, strict_dropout=True)
        context.notes.append("Your __init__ does not build the specified layers (Task 1), so forward was also "
                             "checked on layers of the specified shapes, under the names your forward uses.")


def _structure_ok(facts: Mapping[str, Any], config: NetConfig, functional: list[Mapping[str, Any]]) -> bool:
    with_parameters = dict(facts)
    with_parameters.setdefault("n_parameters", count_parameters_formula(
        config.n_users, config.n_movies, config.resolved()["n_factors"], config.resolved()["hidden"]))
    modules = facts["modules"]
    with_parameters["n_parameters"] = sum(
        m["num_embeddings"] * m["embedding_dim"] if m["kind"] == "Embedding"
        else m["in_features"] * m["out_features"] + (m["out_features"] if m.get("bias") else 0) if m["kind"] == "Linear"
        else m.get("n_parameters", 0) for m in modules)
    check_structure(with_parameters, config, functional)
    return True


TASKS = (
    Task("task1-init-test", TASK_INIT, check_init, init_probe, ("recommender-net",)),
    Task("task2-forward-test", TASK_FORWARD, check_forward, forward_probe, ("recommender-net",)),
)
