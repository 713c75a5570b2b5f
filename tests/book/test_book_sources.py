"""One source for each fact: the original notebook's code and the tuned settings live in the
packages, and the chapters show and run them from there instead of holding copies."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
ORIGINAL = ROOT / "original_notebook"
CHAPTERS = sorted(BOOK.glob("*.md"))

CODE_BLOCK = re.compile(r"^```(?:\{code-cell\}[^\n]*|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def code_lines(text: str) -> list[str]:
    """The stripped, non-empty, non-comment lines of a page's code cells and python blocks."""
    lines = []
    for block in CODE_BLOCK.findall(text):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", ":")):
                lines.append(line)
    return lines


def original_lines() -> list[list[str]]:
    """Each function or class of original_notebook as its significant stripped lines."""
    bodies = []
    for path in sorted(ORIGINAL.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                segment = ast.get_source_segment(source, node) or ""
                kept = []
                for line in segment.splitlines():
                    code = line.split("# deviation:")[0].strip()
                    if len(code) >= 12 and not code.startswith(("#", '"""', "Args", "Returns")):
                        kept.append(code)
                bodies.append(kept)
    return bodies


def test_the_original_code_exists_to_compare_with():
    assert sum(len(body) for body in original_lines()) > 80


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_no_chapter_holds_a_copy_of_the_original_code(chapter):
    """No three consecutive lines of the original notebook's code appear in a chapter's code."""
    lines = code_lines(chapter.read_text(encoding="utf-8"))
    windows = {tuple(lines[i : i + 3]) for i in range(len(lines) - 2)}
    for body in original_lines():
        for i in range(len(body) - 2):
            window = tuple(body[i : i + 3])
            assert window not in windows, f"{chapter.name} copies original_notebook code: {window}"


DISTINCTIVE = [
    "def calc_loss(true_r, est_r, exist):",
    "def gen_layers(n_in):",
    "n_last = hidden[-1]",
    "scheduler.step(loss)",
    "train_loss += loss",
    "class RecommenderNet(nn.Module):",
]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_no_chapter_redefines_the_original_pieces(chapter):
    lines = code_lines(chapter.read_text(encoding="utf-8"))
    for line in DISTINCTIVE:
        assert line not in lines, f"{chapter.name} contains the original notebook's line {line!r}"


INCLUDE = re.compile(r"```\{literalinclude\} (\S+)\n(?::[^\n]*\n)*?:pyobject: (\S+)")


def test_every_literalinclude_names_an_existing_object():
    includes = []
    for chapter in CHAPTERS:
        for target, name in INCLUDE.findall(chapter.read_text(encoding="utf-8")):
            path = (chapter.parent / target).resolve()
            assert path.is_file(), f"{chapter.name} includes {target}, which does not exist"
            names = {node.name for node in ast.parse(path.read_text(encoding="utf-8")).body
                     if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
            assert name in names, f"{chapter.name} includes {name} from {target}, which has no such object"
            includes.append((chapter.name, name))
    shown = {name for _, name in includes}
    assert {"train_dense_mf", "read_ratings_matrix", "RecommenderNet", "train", "evaluate"} <= shown


#: Literals of the tuned settings (recsys_ref.mf.DENSE_MF_TUNED, recsys_ref.nn.RECOMMENDER_NET_TUNED)
#: that a chapter must not repeat: it reads the constants instead.
TUNED_LITERALS = [
    re.compile(r"weight_decay\s*=\s*5(\.0)?\b"),
    re.compile(r"""["']?hidden["']?\s*[:=]\s*[\[(]\s*64\s*,?\s*[\])]"""),
    re.compile(r"""embedding_dropout["']?\s*[:=]\s*0\.3\b"""),
    re.compile(r"""dropout_rate["']?\s*[:=]\s*0\.3\b"""),
]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_no_chapter_hard_codes_the_tuned_settings(chapter):
    code = "\n".join(code_lines(chapter.read_text(encoding="utf-8")))
    for pattern in TUNED_LITERALS:
        assert not pattern.search(code), f"{chapter.name} hard-codes a tuned setting: {pattern.pattern}"


MY_CHAPTERS = ["intro", "data", "paradigms", "evaluation", "matrix_factorization", "recommender_net", "notation"]


@pytest.mark.parametrize("name", MY_CHAPTERS)
def test_seed_means_a_random_seed_only(name):
    """The course's starting notebook is "the original notebook", never "the seed"."""
    text = (BOOK / f"{name}.md").read_text(encoding="utf-8")
    for phrase in ("seed notebook", "the seed's", "The seed's", "the seed ", "The seed "):
        assert phrase not in text, f"{name}.md says {phrase!r}; write 'the original notebook'"


@pytest.mark.parametrize("name", MY_CHAPTERS)
def test_one_notation(name):
    """The factor matrices are P and Q and the observed pairs Omega, as on the notation page."""
    text = (BOOK / f"{name}.md").read_text(encoding="utf-8")
    for old in (r"U^\top V", r"E_{ui}", r"|E|"):
        assert old not in text, f"{name}.md uses the old notation {old}"


VISIBLE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("name", MY_CHAPTERS)
def test_shown_code_fits_the_page(name):
    """Code lines longer than 80 characters get a scroll bar in the rendered page."""
    for block in VISIBLE_CELL.findall((BOOK / f"{name}.md").read_text(encoding="utf-8")):
        if block.startswith(":tags: [remove-cell]"):
            continue
        for line in block.splitlines():
            assert len(line) <= 80, f"{name}.md: a shown code line has {len(line)} characters: {line!r}"
