"""Numbers in the prose come from the code: every glued name a page uses is glued on that page.

The build would fail on a missing name too (myst-nb warns, and the build treats warnings as
errors); this finds it in a second, and names the page and the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"
PAGES = sorted(path for path in BOOK.glob("*.md") if "{glue" in path.read_text(encoding="utf-8"))

USED = re.compile(r"\{glue(?::[a-z]+)?\}`([A-Za-z0-9_]+)(?::[^`]*)?`")
GLUED = re.compile(r"""(?:prose\.(?:number|text)|glue)\(\s*(f?)(["'])(.*?)\2""")


def glued_names(text: str) -> tuple[set[str], list[re.Pattern]]:
    """Names glued literally, and patterns for names built by f-strings (``f"rmse_{name}"``)."""
    names, patterns = set(), []
    for is_f, _, name in GLUED.findall(text):
        if is_f:
            parts = re.split(r"\{[^}]*\}", name)
            patterns.append(re.compile("^" + "[A-Za-z0-9_]+".join(map(re.escape, parts)) + "$"))
        else:
            names.add(name)
    return names, patterns


def test_there_are_pages_with_glued_numbers():
    assert {"evaluation.md", "matrix_factorization.md", "recommender_net.md"} <= {p.name for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_every_glued_name_used_is_glued_on_the_page(page):
    text = page.read_text(encoding="utf-8")
    names, patterns = glued_names(text)
    for used in USED.findall(text):
        assert used in names or any(p.match(used) for p in patterns), (
            f"{page.name} uses {{glue}}`{used}` but no cell of the page glues it"
        )
