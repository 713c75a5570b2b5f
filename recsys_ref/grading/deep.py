"""What the hidden tests of the assignment ``deep`` record in the student's kernel.

:func:`record_recommender_net_init` builds the student's ``RecommenderNet``
with the grader's configurations and records the modules it made (types,
sizes, dropout rates, whether each is registered, the parameter count).
:func:`record_recommender_net_forward` builds it again, records the weights,
and records the outputs of ``forward`` on the grader's inputs: in ``eval()``
mode (twice, and with each ``minmax`` range of the probe), in ``train()``
mode with a fixed seed, which modules were called and which parameters got a
gradient. The grader recomputes what the specified forward pass gives *with
the student's own modules and weights*, so ``forward`` is graded on its own,
even when ``__init__`` built different layers. The probe may also name
*fallback* modules (plain ``torch.nn`` layers of the specified shapes,
attached under the attribute names the student's ``forward`` uses); the
recorder then runs ``forward`` on those too, so that ``forward`` can be
graded even when ``__init__`` builds no usable network.

The recorders decide nothing; the grader's checks (``grader/checks/deep.py``) do.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from recsys_ref.grading.exchange import Bundle, exchange_dir, read_probe, write_record
from recsys_ref.grading.recording import (decode_input, describe_error, encode, isolated, keep_global_rng,
                                          plain_copy, type_name)

INIT = "deep.init"
FORWARD = "deep.forward"

#: The dropout modules of torch.nn (public classes only).
DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)
_MODULE_INTERNALS = frozenset(vars(nn.Module()))


def find_modules(model: nn.Module) -> list[tuple[str, nn.Module, bool]]:
    """Every sub-module of ``model``, registered or not: ``(path, module, registered)``.

    Registered children are followed as usual; plain ``list``, ``tuple`` and
    ``dict`` attributes are searched too, so that layers kept in a Python list
    are found (and can be reported as not registered). The model itself is not
    included. Order: registration order, then attribute order.
    """
    found: list[tuple[str, nn.Module, bool]] = []
    seen = {id(model)}

    def visit(obj: Any, path: str, depth: int, registered: bool) -> None:
        if depth > 8:
            return
        if isinstance(obj, nn.Module):
            if id(obj) in seen:
                return
            seen.add(id(obj))
            found.append((path, obj, registered))
            visit_children(obj, path, depth, registered)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                visit(item, f"{path}[{i}]", depth + 1, False)
        elif isinstance(obj, dict):
            for key, item in obj.items():
                visit(item, f"{path}[{key!r}]", depth + 1, False)

    def visit_children(module: nn.Module, prefix: str, depth: int, registered: bool) -> None:
        join = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
        for name, child in module.named_children():
            visit(child, join(name), depth + 1, registered)
        for name, value in vars(module).items():
            if name not in _MODULE_INTERNALS and isinstance(value, (list, tuple, dict)):
                visit(value, join(name), depth + 1, False)

    visit_children(model, "", 0, True)
    return found


def describe_module(module: nn.Module) -> dict[str, Any]:
    """A module's kind and sizes as data (no weights)."""
    facts: dict[str, Any] = {"type": f"{type(module).__module__}.{type(module).__qualname__}"}
    if isinstance(module, nn.Embedding):
        facts.update(kind="Embedding", num_embeddings=module.num_embeddings, embedding_dim=module.embedding_dim)
    elif isinstance(module, nn.Linear):
        facts.update(kind="Linear", in_features=module.in_features, out_features=module.out_features,
                     bias=module.bias is not None)
    elif isinstance(module, DROPOUT_TYPES):
        facts.update(kind="Dropout", p=float(module.p))
    elif isinstance(module, nn.ReLU):
        facts.update(kind="ReLU")
    elif isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        facts.update(kind="container")
    else:
        facts.update(kind="other", n_parameters=sum(p.numel() for p in module.parameters(recurse=False)))
    return facts


def build_module(description: Any) -> Any:
    """Plain ``torch.nn`` modules from a probe's description (used for fallback modules).

    ``{"Embedding": [rows, dim]}``, ``{"Linear": [n_in, n_out]}``, ``{"Dropout": p}``,
    ``{"ReLU": []}``, ``{"Sequential": [...]}``, ``{"ModuleList": [...]}``, ``{"list": [...]}``,
    and ``{"value": x}`` for a plain attribute (e.g. a dropout rate that ``forward`` reads).
    """
    (kind, value), = description.items()
    if kind == "value":
        return value
    if kind == "Embedding":
        return nn.Embedding(*value)
    if kind == "Linear":
        return nn.Linear(*value)
    if kind == "Dropout":
        return nn.Dropout(value)
    if kind == "ReLU":
        return nn.ReLU()
    if kind == "Sequential":
        return nn.Sequential(*[build_module(v) for v in value])
    if kind == "ModuleList":
        return nn.ModuleList([build_module(v) for v in value])
    if kind == "list":
        return [build_module(v) for v in value]
    raise ValueError(f"unknown module description {description!r}")


def _build(cls: Any, config: dict[str, Any], probe: Bundle, *, use_fallback: bool = False) -> tuple[Any, dict[str, Any]]:
    """The student's network for one configuration (or, with ``use_fallback``, the probe's fallback modules)."""
    torch.manual_seed(int(config.get("seed", 0)))
    facts: dict[str, Any] = {"build": "failed", "error": None}
    model = None
    if not use_fallback:
        try:
            model = cls(config["n_users"], config["n_movies"], **config.get("kwargs", {}))
            facts["build"] = "student"
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001
            facts["error"] = describe_error(error)
    else:
        fallback = config.get("fallback")
        if fallback and isinstance(cls, type) and issubclass(cls, nn.Module):
            try:
                model = cls.__new__(cls)
                nn.Module.__init__(model)
                for name, description in fallback.items():
                    setattr(model, name, build_module(description))
                facts["build"] = "fallback"
            except Exception as fallback_error:  # noqa: BLE001
                facts["fallback_error"] = describe_error(fallback_error)
                model = None
    facts["is_module"] = isinstance(model, nn.Module)
    facts["type"] = type_name(model)
    return model, facts


def _structure(model: nn.Module, bundle: Bundle | None) -> list[dict[str, Any]]:
    modules = []
    for path, module, registered in find_modules(model):
        facts = describe_module(module)
        facts.update(path=path, registered=registered)
        if bundle is not None and facts["kind"] in ("Embedding", "Linear"):
            facts["weight"] = bundle.add_tensor("w", plain_copy(module.weight))
            if getattr(module, "bias", None) is not None:
                facts["bias_tensor"] = bundle.add_tensor("w", plain_copy(module.bias))
        modules.append(facts)
    return modules


@isolated
@keep_global_rng
def record_recommender_net_init(cls: Any) -> None:
    """Task 1: build ``cls`` with each probe configuration and record the modules it made."""
    if exchange_dir() is None:
        return
    probe = read_probe(INIT)
    bundle = Bundle({"type": type_name(cls), "is_module_class": isinstance(cls, type) and issubclass(cls, nn.Module),
                     "configs": []})
    if bundle.meta["is_module_class"]:
        for config in probe.meta["configs"]:
            model, facts = _build(cls, config, probe)
            if facts["is_module"]:
                facts["modules"] = _structure(model, None)
                facts["n_parameters"] = int(sum(p.numel() for p in model.parameters()))
            bundle.meta["configs"].append(facts)
    write_record(INIT, bundle)


def _set_mode(model: nn.Module, training: bool) -> None:
    model.train(training)
    for _, module, _ in find_modules(model):
        module.train(training)


def _forward(model: nn.Module, users: torch.Tensor, movies: torch.Tensor, minmax: Any, bundle: Bundle) -> dict[str, Any]:
    try:
        out = model(users, movies) if minmax is None else model(users, movies, minmax)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001
        return describe_error(error)
    return encode(out, bundle)


def randomise_weights(model: nn.Module, seed: int) -> None:
    """Give every Embedding and Linear informative weights (outputs spread over the sigmoid's range).

    The network's own initialisation gives tiny weights and biases of 0.01,
    with which several wrong forward passes produce nearly the same outputs.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, module, _ in find_modules(model):
            if isinstance(module, nn.Embedding):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
            elif isinstance(module, nn.Linear):
                std = 1.0 / max(module.in_features, 1) ** 0.5
                module.weight.copy_(1.5 * std * torch.randn(module.weight.shape, generator=generator))
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def _record_forward_config(cls: Any, config: dict[str, Any], probe: Bundle, bundle: Bundle,
                           *, use_fallback: bool = False) -> dict[str, Any]:
    model, facts = _build(cls, config, probe, use_fallback=use_fallback)
    if not facts["is_module"]:
        return facts
    randomise_weights(model, int(config.get("weight_seed", 0)))
    facts["modules"] = _structure(model, bundle)
    users, movies = decode_input(config["users"], probe), decode_input(config["movies"], probe)
    _set_mode(model, False)
    facts["eval"] = []
    with torch.no_grad():
        for minmax in config.get("ranges", [None]):
            facts["eval"].append({"minmax": minmax, "output": _forward(model, users, movies, minmax, bundle)})
        facts["eval_again"] = _forward(model, users, movies, None, bundle)
    # train() mode with a fixed seed: which layers run, and the output (dropout rates are 0 or 1 in the probe).
    _set_mode(model, True)
    called: list[str] = []
    watched = [(path, m) for path, m, _ in find_modules(model)
               if isinstance(m, (nn.Embedding, nn.Linear)) or isinstance(m, DROPOUT_TYPES)]
    hooks = [m.register_forward_hook(lambda module, inputs, output, path=path: called.append(path)) for path, m in watched]
    torch.manual_seed(int(config.get("train_seed", 0)))
    try:
        try:
            out = model(users, movies)
            facts["train"] = encode(out, bundle)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001
            out = None
            facts["train"] = describe_error(error)
    finally:
        for hook in hooks:
            hook.remove()
    facts["called"] = list(dict.fromkeys(called))
    facts["without_gradient"] = []
    if isinstance(out, torch.Tensor) and out.requires_grad:
        try:
            model.zero_grad()
            out.sum().backward()
            for path, module, _ in find_modules(model):
                for name, parameter in module.named_parameters(recurse=False):
                    if parameter.requires_grad and parameter.grad is None:
                        facts["without_gradient"].append(f"{path}.{name}")
        except Exception as error:  # noqa: BLE001
            facts["backward_error"] = describe_error(error)
    return facts


@isolated
@keep_global_rng
def record_recommender_net_forward(cls: Any) -> None:
    """Task 2: record ``forward``'s outputs for each probe configuration (see the module docstring)."""
    if exchange_dir() is None:
        return
    probe = read_probe(FORWARD)
    bundle = Bundle({"type": type_name(cls), "is_module_class": isinstance(cls, type) and issubclass(cls, nn.Module),
                     "configs": []})
    if bundle.meta["is_module_class"]:
        for config in probe.meta["configs"]:
            facts = _record_forward_config(cls, config, probe, bundle)
            if config.get("fallback"):
                facts["fallback_run"] = _record_forward_config(cls, config, probe, bundle, use_fallback=True)
            bundle.meta["configs"].append(facts)
    write_record(FORWARD, bundle)
