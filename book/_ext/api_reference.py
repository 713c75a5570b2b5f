"""What the API reference (``book/api.md``, ``book/api/*.md``) needs beyond autodoc and napoleon.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``, after
``sphinx.ext.autodoc``, ``sphinx.ext.napoleon`` and ``sphinx_autodoc_typehints``.

1. **Re-exported and inherited names resolve.** The reference documents every
   object once, where it is defined (``recsys_ref.implicit.bpr.bpr_loss``), but
   the package's docstrings and the chapters also name it by the path people
   import it from (``recsys_ref.implicit.bpr_loss``, ``:data:`BPR_TUNED``` in
   the package docstring) or through a subclass (``:meth:`fit``` in the
   docstring of ``GlobalMean``, which inherits ``RatingPredictor.fit``). When
   the Python domain finds no target, :func:`resolve_alias` imports the name,
   and if it is the *same object* as one the reference documents, links there.
   A name that is neither documented nor importable still fails the ``-n``
   build, as it should.
2. **``Attributes (set by :meth:`fit`):``** is the package's header for the
   attributes a model has only after fitting. Napoleon knows only
   ``Attributes:``, so :func:`attributes_header` rewrites the header and keeps
   the parenthesis as a sentence above the list ("The attributes below are
   set by fit.").
3. **Deprecated aliases are left out** (:func:`skip_member`): a member whose
   docstring starts with ``Deprecated`` (``BiasedMF.user_bias`` ...) stays
   importable for old notebooks but is not advertised in the reference.
4. **Data and attribute docstrings are prose.** Napoleon reads the first line
   of a constant's, attribute's or property's docstring as ``type: text``, so
   "The pooch registry: ..." would become a (missing) type called "The pooch
   registry". The package writes these docstrings as sentences and puts the
   types in annotations, so :func:`plain_attribute_docstring` stops napoleon
   from splitting the line.
5. **The original notebook's own docstring** (its ``RecommenderNet``'s,
   :data:`VERBATIM`) is shown as written, in a literal block: it is part of
   the code the book studies, not reST. Docstrings a method would inherit
   from another library (``torch.nn.Module.forward``) and the docstring of a
   constant's type (``str``'s for a string) are not shown.
6. **Base classes that are private** (``_Peer``) are replaced by their public
   bases in "Bases:" lines, and a plain class gets no "Bases: object" line
   (:func:`public_bases`).
7. :data:`DOCSTRING_FIXES`: markup fixes for docstrings of the package that
   break the strict build, applied to the text autodoc renders until the
   docstring itself is fixed (then the entry does nothing and can go).
8. **A type variable is shown as its bound** (:func:`bound_of_type_variables`):
   ``fit`` returns a ``RatingPredictor``, not ``TypeVar(Model, bound=...)``.
   (NumPy's ``ArrayLike`` is shown by name through ``autodoc_type_aliases``
   in ``_config.yml``.)
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

#: Objects whose identity says nothing (None, True, False) are never matched by identity.
_PLAIN = (bool, type(None))

#: Our own code: docstrings inherited from anywhere else are not shown.
_OWN_PACKAGES = ("recsys_ref", "original_notebook")

#: Objects whose docstring is the original notebook's own text (not reST): shown verbatim.
VERBATIM = {"original_notebook.recommender_net.RecommenderNet"}

#: Markup fixes for docstrings that break the strict build: (object's full name, text as
#: written, text rendered). Each is reported to the module's owner; once the docstring is
#: fixed the text is no longer found and the entry does nothing.
DOCSTRING_FIXES: list[tuple[str, str, str]] = [
    # A table cell wider than its column ("Text in column margin").
    (
        "recsys_ref.data.releases",
        "``ml-latest-small``  100,836   610         9,742    0.5..5",
        "ml-latest-small      100,836   610         9,742    0.5..5",
    ),
    # Cells wider than their column ("Text in column margin"): column 2 widened.
    (
        "recsys_ref.paradigms",
        (
            '=========================  ================================================  ==========================\n'
            'paradigm                   lists                                             predictor\n'
            '=========================  ================================================  ==========================\n'
            'Non-personalised baseline  :func:`popular_items`, :func:`damped_item_means`  (:class:`RecencyPopularity`\n'
            '                                                                             with no decay)\n'
            'Collaborative filtering    :func:`item_item_neighbours` (Sarwar et al. 2001)  :class:`ItemKNN`\n'
            'Content-based              :func:`content_similar_items`,                    :class:`ContentKNN`\n'
            '                           :func:`user_profile_recommend`\n'
            'Social (stand-in)          :func:`taste_neighbours` + :func:`recommend_from_peers`\n'
            'Demographic                :func:`demographic_peers`, :func:`demographic_recommend`  :class:`DemographicMeans`\n'
            'Contextual (time)          :func:`recency_popular_items`                     :class:`RecencyPopularity`\n'
            '=========================  ================================================  =========================='
        ),
        (
            '=========================  ========================================================  ============================\n'
            'paradigm                   lists                                                     predictor\n'
            '=========================  ========================================================  ============================\n'
            'Non-personalised baseline  :func:`popular_items`, :func:`damped_item_means`          (:class:`RecencyPopularity`\n'
            '                                                                                     with no decay)\n'
            'Collaborative filtering    :func:`item_item_neighbours` (Sarwar et al. 2001)         :class:`ItemKNN`\n'
            'Content-based              :func:`content_similar_items`,                            :class:`ContentKNN`\n'
            '                           :func:`user_profile_recommend`\n'
            'Social (stand-in)          :func:`taste_neighbours` + :func:`recommend_from_peers`\n'
            'Demographic                :func:`demographic_peers`, :func:`demographic_recommend`  :class:`DemographicMeans`\n'
            'Contextual (time)          :func:`recency_popular_items`                             :class:`RecencyPopularity`\n'
            '=========================  ========================================================  ============================'
        ),
    ),
]

_ATTRIBUTES_HEADER = re.compile(r"^(\s*)Attributes \((.+)\):\s*$")
_NAPOLEON_TYPE = re.compile(r"^:type: (.+)$")
#: sphinx-autodoc-typehints writes ``:py:class:`~typing.TypeVar`\ \(``Model``, bound= X)``.
_TYPEHINTS_ROLE = re.compile(r":sphinx_autodoc_typehints_type:`((?:[^`\\]|\\.)*)`")
_ESCAPED = re.compile(r"\\(.)")
_TYPE_VARIABLE = re.compile(r":py:class:`~typing\.TypeVar`(?:\\ )?\\\(``\w+``, bound= ?([^()]+?)\)")


def _import(name: str) -> tuple[bool, Any]:
    """(found, object) for a dotted name: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        except Exception:  # noqa: BLE001 - a module that fails to import is simply not a match
            return False, None
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return False, None
        return True, obj
    return False, None


def _unwrap(obj: Any) -> Any:
    """The function behind a property, classmethod or staticmethod (they carry the names)."""
    if isinstance(obj, property):
        return obj.fget
    return getattr(obj, "__func__", obj)


def _documented_twin(env: BuildEnvironment, target: str, obj: Any) -> str | None:
    """The documented name of ``obj``: its defining module and qualified name, or a twin by identity."""
    objects = env.get_domain("py").objects
    if target in objects:  # documented under this name, as another kind (a type alias used as a class)
        return target
    inner = _unwrap(obj)
    module, qualname = getattr(inner, "__module__", None), getattr(inner, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and f"{module}.{qualname}" in objects:
        return f"{module}.{qualname}"
    if isinstance(obj, _PLAIN):
        return None
    # Data (BPR_TUNED, GENRES ...) has no __module__: look for a documented name with the
    # same last component that is the same object.
    last = target.rsplit(".", 1)[-1]
    for name in objects:
        if name.rsplit(".", 1)[-1] == last:
            found, candidate = _import(name)
            if found and candidate is obj:
                return name
    return None


def resolve_alias(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """``missing-reference`` handler: link a re-exported or inherited name to its documented twin."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    candidates = []
    if module and cls:
        candidates.append(f"{module}.{cls}.{target}")
    if module:
        candidates.append(f"{module}.{target}")
    candidates.append(target)
    objects = env.get_domain("py").objects
    for candidate in candidates:
        if not candidate.startswith("recsys_ref"):
            continue
        found, obj = _import(candidate)
        if not found:
            continue
        twin = _documented_twin(env, candidate, obj)
        if twin is None:
            continue
        entry = objects[twin]
        return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, twin)
    return None


def attributes_header(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """``autodoc-process-docstring`` (before napoleon): ``Attributes (set by X):`` -> ``Attributes:``."""
    for index, line in enumerate(lines):
        match = _ATTRIBUTES_HEADER.match(line)
        if match:
            indent, note = match.groups()
            lines[index : index + 1] = [f"{indent}The attributes below are {note}.", "", f"{indent}Attributes:"]


def apply_fixes(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """``autodoc-process-docstring``: the :data:`DOCSTRING_FIXES` for this object."""
    fixes = [(old, new) for target, old, new in DOCSTRING_FIXES if target == name]
    if not fixes:
        return
    text = "\n".join(lines)
    for old, new in fixes:
        if old in text:
            text = text.replace(old, new)
        else:
            logger.info("api_reference: the docstring of %s no longer needs its DOCSTRING_FIXES entry", name)
    lines[:] = text.split("\n")


def plain_attribute_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """``autodoc-process-docstring`` (after napoleon): a data or attribute docstring is prose.

    Napoleon has taken the text before the first colon of the first line as a type and
    moved it to a ``:type:`` field at the end; put it back where it was written.
    """
    if what not in ("data", "attribute", "property"):
        return
    for index in range(len(lines) - 1, -1, -1):
        match = _NAPOLEON_TYPE.match(lines[index])
        if match:
            del lines[index]
            if index > 0 and not lines[index - 1].strip():
                del lines[index - 1]
            first = next((i for i, line in enumerate(lines) if line.strip()), None)
            if first is None:
                lines.insert(0, match.group(1))
            else:
                lines[first] = f"{match.group(1)}: {lines[first]}"
            return


def _inherited_from_elsewhere(name: str, obj: Any) -> bool:
    """True when ``obj`` (a method) has no docstring and would inherit one from another library."""
    if getattr(_unwrap(obj), "__doc__", None):
        return False
    owner_name, _, attribute = name.rpartition(".")
    found, owner = _import(owner_name)
    if not found or not isinstance(owner, type):
        return False
    for cls in owner.__mro__[1:]:
        inherited = cls.__dict__.get(attribute)
        if inherited is not None and getattr(_unwrap(inherited), "__doc__", None):
            return not cls.__module__.startswith(_OWN_PACKAGES)
    return False


def _is_type_docstring(obj: Any, lines: list[str]) -> bool:
    """Whether ``lines`` are the docstring of ``obj``'s type (autodoc's fallback for a bare constant)."""
    own = [line.strip() for line in lines if line.strip()]
    of_type = [line.strip() for line in (type(obj).__doc__ or "").splitlines() if line.strip()]
    return bool(own) and own[: len(of_type)] == of_type[: len(own)]


def own_docstrings_only(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """``autodoc-process-docstring`` (before napoleon): foreign inherited docstrings out, the original
    notebook's own docstring verbatim."""
    if what in ("method", "property", "attribute") and _inherited_from_elsewhere(name, obj):
        lines[:] = []
        return
    if what in ("data", "attribute") and type(obj).__module__ == "builtins" and _is_type_docstring(obj, lines):
        lines[:] = []  # a constant without a comment: not str's or int's docstring
        return
    if name in VERBATIM and lines:
        lines[:] = ["The original notebook's docstring, as written::", ""] + [
            f"    {line}" if line else "" for line in lines
        ]


def bound_of_type_variables(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """``autodoc-process-docstring`` (after sphinx-autodoc-typehints): a type variable as its bound.

    ``fit`` returns the model itself, typed ``Model = TypeVar("Model", bound="RatingPredictor")``;
    the reader is better served by ``RatingPredictor`` than by ``TypeVar(Model, bound=...)``.
    sphinx-autodoc-typehints writes a type as its own role with escaped reST inside,
    ``:sphinx_autodoc_typehints_type:`\\:py\\:class\\:...```; such a type is unescaped,
    rewritten and written back as plain reST.
    """

    def bound(match: re.Match) -> str:
        text = match.group(1).strip()
        return text if text.startswith(":") else f":py:class:`{text}`"

    def typehints_role(match: re.Match) -> str:
        content = _ESCAPED.sub(r"\1", match.group(1))
        rewritten = _TYPE_VARIABLE.sub(bound, content)
        return rewritten if rewritten != content else match.group(0)

    for index, line in enumerate(lines):
        if "TypeVar" in line:
            line = _TYPEHINTS_ROLE.sub(typehints_role, line)
            lines[index] = _TYPE_VARIABLE.sub(bound, line)


def public_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    """``autodoc-process-bases``: a private base class is replaced by its own (public) bases."""
    index = 0
    while index < len(bases):
        base = bases[index]
        if base.__name__.startswith("_") and base.__module__.startswith(_OWN_PACKAGES):
            bases[index : index + 1] = [b for b in base.__bases__ if b is not object] or [object]
        else:
            index += 1
    if bases == [object]:  # no "Bases: object" line for a plain class
        bases.clear()


def skip_member(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """``autodoc-skip-member``: leave out deprecated aliases and the fields' stock docstrings.

    A named tuple's fields say only "Alias for field number 0"; the class's
    ``Attributes:`` section documents them.
    """
    doc = getattr(_unwrap(obj), "__doc__", None) if not isinstance(obj, _PLAIN) else None
    if isinstance(doc, str) and (doc.lstrip().startswith("Deprecated") or doc.startswith("Alias for field number")):
        return True
    return None


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("missing-reference", resolve_alias)
    # Before napoleon (priority 500), which would otherwise read the header as plain text.
    app.connect("autodoc-process-docstring", attributes_header, priority=400)
    app.connect("autodoc-process-docstring", apply_fixes, priority=390)
    app.connect("autodoc-process-docstring", own_docstrings_only, priority=395)
    app.connect("autodoc-process-docstring", plain_attribute_docstring, priority=600)
    app.connect("autodoc-skip-member", skip_member)
    app.connect("autodoc-process-bases", public_bases)
    app.connect("autodoc-process-docstring", bound_of_type_variables, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
