"""The MyST labels the grader's feedback links to exist, once, on the right page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"

#: Page -> labels that feedback and other pages link to (issue 10's list, plus the book's own).
REQUIRED = {
    "matrix_factorization": [
        "mf-latent-factors",
        "mf-training-loop",
        "mf-bug-loss-all-cells",
        "mf-bug-zero-grad",
        "mf-bug-minmax",
    ],
    "recommender_net": ["net-architecture", "net-bug-plain-list", "net-dropout", "net-output-range"],
    "evaluation": ["eval-ranking-metrics", "eval-uncertainty"],
    "notation": ["notation", "notation-regularisation"],
}

LABEL = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.MULTILINE)


def labels_by_page() -> dict[str, list[str]]:
    return {
        path.relative_to(BOOK).with_suffix("").as_posix(): LABEL.findall(path.read_text(encoding="utf-8"))
        for path in BOOK.rglob("*.md")
    }


def test_every_required_label_is_on_its_page():
    found = labels_by_page()
    for page, labels in REQUIRED.items():
        for label in labels:
            assert label in found.get(page, []), f"book/{page}.md lacks the label ({label})="


def test_no_label_is_defined_twice():
    seen: dict[str, str] = {}
    for page, labels in labels_by_page().items():
        for label in labels:
            assert label not in seen, f"label {label} is defined in book/{seen[label]}.md and book/{page}.md"
            seen[label] = page


def test_a_label_precedes_a_heading():
    """MyST attaches a label to the next heading; a label before prose would link to nothing useful."""
    for path in BOOK.rglob("*.md"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if LABEL.match(line):
                following = next((line for line in lines[number + 1 :] if line.strip()), "")
                assert following.startswith("#"), f"{path.name}:{number + 1}: label not followed by a heading"


def test_the_graders_links_point_to_existing_labels():
    """When the grader is installed (the lead's branch), every book section it links to exists."""
    common = pytest.importorskip("grader.checks._common")
    found = labels_by_page()
    for key, (page, label, _title) in common.BOOK_SECTIONS.items():
        if (BOOK / f"{page}.md").exists():
            assert label in found[page], f"feedback key {key} links to ({label})=, missing from book/{page}.md"
