"""The API reference (book/api.md, book/api/*.md) documents every public name of the reference.

A name is public when the module lists it in ``__all__`` or, for a module without
``__all__``, when it is defined at the module's top level without a leading underscore.
The pages document objects with ``automodule`` (``:members:``) or ``autoclass``,
``autofunction``, ``autodata`` ...; autodoc then leaves out a member without a docstring
(or, for a constant, without a ``#:`` comment), so these tests also fail when a new
public function has no docstring, and say so.

The last test reads the inventory of the built book (``_build/html/objects.inv``, written
by ``make book``, which ``make test`` runs first) and checks that every public name really
became a documented object.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
PAGES = [BOOK / "api.md", *sorted((BOOK / "api").glob("*.md"))]
INVENTORY = ROOT / "_build" / "html" / "objects.inv"

#: The modules the API reference must cover (issue 12, item 7), and the original notebook's code.
MODULES = [
    "recsys_ref.data",
    "recsys_ref.base",
    "recsys_ref.baselines",
    "recsys_ref.mf",
    "recsys_ref.nn",
    "recsys_ref.nn_training",
    "recsys_ref.paradigms",
    "recsys_ref.metrics",
    "recsys_ref.ranking",
    "recsys_ref.implicit",
    "recsys_ref.grading",
    "original_notebook",
]

DIRECTIVE = re.compile(r"^\.\. (auto\w+|py:module)::\s*(\S+)\s*\n((?:[ \t]+:[^\n]*\n)*)", re.MULTILINE)

sys.path.insert(0, str(BOOK / "_ext"))


def directives() -> list[tuple[str, str, str]]:
    """(directive, target, options) of every autodoc directive in the API pages."""
    found = []
    for page in PAGES:
        for name, target, options in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.append((name, target, options))
    return found


def automodules(with_members: bool) -> set[str]:
    return {
        target
        for name, target, options in directives()
        if name == "automodule" and (not with_members or ":members:" in options)
    }


def explicitly_documented() -> set[str]:
    return {target for name, target, _ in directives() if name not in ("automodule", "py:module")}


def top_level_names(module: ModuleType) -> list[str]:
    """Public names defined at the top level of a module's source (def, class, assignment)."""
    tree = ast.parse(inspect.getsource(module))
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [name for name in names if not name.startswith("_")]


def public_names(module: ModuleType) -> list[str]:
    """``__all__``, or the public top-level names; submodules and type variables are not names
    of the reference (submodules get their own section, see the test below)."""
    explicit = getattr(module, "__all__", None)
    names = list(explicit) if explicit is not None else top_level_names(module)
    return [
        name for name in names if not isinstance(getattr(module, name), (ModuleType, TypeVar))
    ]


def submodules(package: ModuleType) -> list[str]:
    """The public submodules of a package (no leading underscore, not ``__main__``)."""
    if not hasattr(package, "__path__"):
        return []
    return sorted(
        f"{package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def defining_module(module: ModuleType, name: str) -> str:
    """Where ``module.name`` is defined: its ``__module__``, or for a constant the submodule holding it."""
    obj = getattr(module, name)
    home = getattr(obj, "__module__", None)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return home
    for candidate in [module.__name__, *submodules(module)]:
        holder = importlib.import_module(candidate)
        if name in top_level_names(holder) and getattr(holder, name, None) is obj:
            return candidate
    raise AssertionError(f"{module.__name__}.{name}: cannot find the module that defines it")


def has_documentation(module_name: str, name: str) -> bool:
    """Whether autodoc's ``:members:`` would render ``module_name.name`` (a docstring or a ``#:`` comment)."""
    from sphinx.pycode import ModuleAnalyzer

    module = importlib.import_module(module_name)
    obj = getattr(module, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return bool(inspect.getdoc(obj))
    return ("", name) in ModuleAnalyzer.for_module(module_name).find_attr_docs()


def all_public_objects() -> list[tuple[str, str, str]]:
    """(module, name, defining module) for every public name of :data:`MODULES`."""
    result = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in public_names(module):
            result.append((module_name, name, defining_module(module, name)))
    return result


def test_the_pages_exist_and_use_autodoc():
    assert len(PAGES) > len(MODULES) // 2
    assert len(automodules(with_members=True)) >= len(MODULES)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_module_and_submodule_has_a_section(module_name):
    """A new submodule needs its own ``automodule`` section, or its docstring and names are missing."""
    module = importlib.import_module(module_name)
    documented = automodules(with_members=False)
    for name in [module_name, *submodules(module)]:
        assert name in documented, f"no API page has `.. automodule:: {name}`: add a section for it"


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_documented(module_name):
    explicit = explicitly_documented()
    with_members = automodules(with_members=True)
    module = importlib.import_module(module_name)
    for name in public_names(module):
        home = defining_module(module, name)
        if f"{home}.{name}" in explicit or f"{module_name}.{name}" in explicit:
            continue
        assert home in with_members, (
            f"{module_name}.{name} is defined in {home}, which no API page documents with "
            f"`.. automodule:: {home}` and `:members:`"
        )
        home_all = getattr(importlib.import_module(home), "__all__", None)
        assert home_all is None or name in home_all, f"{home}.__all__ leaves out {name}"
        assert has_documentation(home, name), (
            f"{home}.{name} has no docstring (or, for a constant, no `#:` comment above it), "
            "so the API reference leaves it out: document it"
        )


def test_the_names_used_by_the_checks_exist():
    """The public-name rules see the names the book relies on."""
    names = {(module, name) for module, name, _ in all_public_objects()}
    assert ("recsys_ref.implicit", "BPRMF") in names and ("recsys_ref.ranking", "evaluate_ranking") in names
    homes = {(module, name): home for module, name, home in all_public_objects()}
    assert homes["recsys_ref.implicit", "BPR_TUNED"] == "recsys_ref.implicit.bpr"
    assert homes["recsys_ref.metrics", "ndcg_at_k"] == "recsys_ref.metrics.ranking"


def test_every_public_name_is_in_the_built_inventory():
    """After ``make book``: every public name became an object of the reference, where it is defined."""
    if not INVENTORY.is_file():
        pytest.skip("the book is not built (run `make book`)")
    from sphinx.util.inventory import InventoryFile

    with INVENTORY.open("rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    documented = {name for kind, objects in inventory.items() if kind.startswith("py:") for name in objects}
    missing = [
        f"{module}.{name} (defined in {home})"
        for module, name, home in all_public_objects()
        if f"{home}.{name}" not in documented and f"{module}.{name}" not in documented
    ]
    assert not missing, f"not in the API reference of the built book: {missing}"


# --- the extension's rules (book/_ext/api_reference.py) ------------------------------------


def test_attributes_header_becomes_a_napoleon_section():
    import api_reference

    lines = ["A model.", "", "Attributes (set by :meth:`fit`):", "    bu: User biases."]
    api_reference.attributes_header(None, "class", "x.Model", object, {}, lines)
    assert lines == [
        "A model.",
        "",
        "The attributes below are set by :meth:`fit`.",
        "",
        "Attributes:",
        "    bu: User biases.",
    ]


def test_a_constant_docstring_keeps_its_first_words():
    """Napoleon's ``:type:`` split of "The pooch registry: ..." is undone."""
    import api_reference

    lines = ["the registry, by file name.", "", ":type: The pooch registry"]
    api_reference.plain_attribute_docstring(None, "data", "x.REGISTRY", {}, {}, lines)
    assert lines == ["The pooch registry: the registry, by file name."]
    untouched = ["Returns:", "    1.", "", ":type: int"]
    api_reference.plain_attribute_docstring(None, "function", "x.f", None, {}, list(untouched))


def test_a_private_base_is_replaced_by_its_public_bases():
    import api_reference
    from recsys_ref.implicit.peers import ImplicitLibraryALS
    from recsys_ref.implicit.recommender import ImplicitRecommender

    bases = list(ImplicitLibraryALS.__bases__)
    api_reference.public_bases(None, "ImplicitLibraryALS", ImplicitLibraryALS, {}, bases)
    assert bases == [ImplicitRecommender]
    plain = [object]
    api_reference.public_bases(None, "X", object, {}, plain)
    assert plain == []


def test_every_docstring_fix_names_a_documented_object():
    """Each entry of DOCSTRING_FIXES names a module or object the reference documents."""
    import api_reference

    for target, old, new in api_reference.DOCSTRING_FIXES:
        found, _ = api_reference._import(target)
        assert found, f"DOCSTRING_FIXES names {target}, which does not exist"
        assert old != new


def test_a_type_variable_is_shown_as_its_bound():
    import api_reference

    lines = [r":rtype: :py:class:`~typing.TypeVar`\ \(``Model``, bound= RatingPredictor)"]
    api_reference.bound_of_type_variables(None, "method", "recsys_ref.base.RatingPredictor.fit", None, {}, lines)
    assert lines == [":rtype: :py:class:`RatingPredictor`"]


def test_a_constant_without_a_comment_does_not_show_its_types_docstring():
    import api_reference
    from recsys_ref.data.releases import CITATION

    lines = str.__doc__.splitlines()
    api_reference.own_docstrings_only(None, "data", "recsys_ref.data.releases.CITATION", CITATION, {}, lines)
    assert lines == []
    own = ["The pooch registry: ..."]
    api_reference.own_docstrings_only(None, "data", "recsys_ref.data.releases.REGISTRY", {}, {}, own)
    assert own == ["The pooch registry: ..."]


def test_a_type_variable_inside_the_typehints_role_is_shown_as_its_bound():
    import api_reference

    lines = [
        r":rtype: :sphinx_autodoc_typehints_type:`\:py\:class\:\`\~typing.TypeVar\`\\ \\\(\`\`Model\`\`\, "
        r"bound\= RatingPredictor\)`"
    ]
    api_reference.bound_of_type_variables(None, "method", "recsys_ref.base.RatingPredictor.fit", None, {}, lines)
    assert lines == [":rtype: :py:class:`RatingPredictor`"]
