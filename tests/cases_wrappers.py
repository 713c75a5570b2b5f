"""Cases of honest notebooks as tools and platforms save them, and of code written for a GPU.

Each wrapper case takes the filled notebook (the current release with the instructor's answers, or a
case's answers) and changes it the way a tool does, at test time: Colab, JupyterLab, VS Code, the
classic Notebook, old notebook formats, Windows line endings, a byte-order mark, saved outputs, cells
split, retyped, added or deleted. They need the staging of a real file, so they are graded only
through ``python -m grader`` (``in_process=False``; ``tests/pipeline``).

The fair grade of each, decided here:

* Whatever the tool did to the file, an honest notebook earns every point: the grader matches
  cells to the release (by id, text or position), restores deleted provided cells and the
  release's metadata, and flags what it repaired for the instructor (``flags``).
* Code that cannot run unattended in the grader loses the task whose cell it stops, and only that
  task, with a message: ``input()`` in an answer cell (nobody answers it) stops that cell;
  ``input()`` in a cell of the student's own stops only that cell (full marks).
* GPU code: the grader has no GPU. Code guarded by ``torch.cuda.is_available()`` (or that follows
  the model's device) runs on the CPU and earns full marks. An unguarded ``.cuda()`` raises
  "Torch not compiled with CUDA enabled": the task whose code calls it loses its points with that
  error in the message; the other tasks are graded as usual (fresh factors take the place of
  Task 1's; ``forward`` is graded on layers of the specified shapes when ``__init__`` fails).
  The GPU cases change only code, so they are graded in-process too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from cases_deep import HELPER_NET
from notebook_cases import Case

T1_MF, T2_MF, T4_MF = "task1-factors-test", "task2-optimizer-test", "task4-estimate-test"
T1_DEEP, T2_DEEP = "task1-init-test", "task2-forward-test"


# --------------------------------------------------------------------------- helpers


def _index(nb: NotebookNode, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return i
    raise KeyError(grade_id)


def _raw(nb: NotebookNode, *, minor: int | None = None, ids: bool = True, crlf: bool = False,
         bom: bool = False) -> bytes:
    """The notebook's file bytes as a tool writes them (format minor version, cell ids, line endings, BOM)."""
    data = json.loads(json.dumps(nb))
    if minor is not None:
        data["nbformat_minor"] = minor
    for cell in data["cells"]:
        if not ids:
            cell.pop("id", None)
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if crlf:
            source = source.replace("\n", "\r\n")
        cell["source"] = source.splitlines(keepends=True)  # as Jupyter writes it: a list of lines
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def _split(nb: NotebookNode, grade_id: str, at: list[str]) -> NotebookNode:
    """The answer cell ``grade_id`` split before each line in ``at``, every part keeping the cell's metadata
    (what JupyterLab's "Split Cell" does); the later parts get new ids."""
    nb = copy.deepcopy(nb)
    i = _index(nb, grade_id)
    cell = nb.cells[i]
    parts, current = [], []
    for line in cell.source.split("\n"):
        if line in at and current:
            parts.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    parts.append("\n".join(current).strip("\n"))
    assert len(parts) == len(at) + 1, f"could not split {grade_id} before {at}"
    pieces = []
    for n, text in enumerate(parts):
        piece = copy.deepcopy(cell)
        piece.source = text
        if n:
            piece["id"] = f"{cell['id'][:50]}-part{n}"
        pieces.append(piece)
    nb.cells[i:i + 1] = pieces
    return nb


def _insert(nb: NotebookNode, after: str, cell: NotebookNode) -> NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, after) + 1, cell)
    return nb


def _retype(nb: NotebookNode, grade_id: str, cell_type: str) -> NotebookNode:
    """A cell turned into another type by a stray keypress (M, R), keeping its text, id and metadata."""
    nb = copy.deepcopy(nb)
    i = _index(nb, grade_id)
    old = nb.cells[i]
    new = NotebookNode({"cell_type": cell_type, "id": old["id"], "metadata": copy.deepcopy(old.metadata),
                        "source": old.source})
    if cell_type == "code":
        new.update(outputs=[], execution_count=None)
    nb.cells[i] = new
    return nb


def _ran(nb: NotebookNode, big: bool = False) -> NotebookNode:
    """Execution counts and outputs as a notebook saved after running it (``big``: several MB of output)."""
    nb = copy.deepcopy(nb)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = [new_output("stream", name="stdout", text=f"output of cell {count}\n")]
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid.endswith("-test"):
            cell.outputs.append(new_output("execute_result", data={"text/plain": "True"}, execution_count=count))
    if big:
        nb.cells[_index(nb, "setup-peek")].outputs = [new_output(
            "stream", name="stdout", text="tensor([[-1., 4., -1., ..., -1., -1., -1.]])\n" * 120_000)]
        nb.cells[_index(nb, "task3-calc-loss-test")].outputs.append(new_output(
            "display_data", data={"image/png": "iVBORw0KGgo" + "A" * 3_000_000, "text/plain": "<Figure>"}))
    return nb


def _colab(nb: NotebookNode) -> bytes:
    """Saved by Google Colab (see the module docstring of tests/cases_wrappers.py)."""
    nb = _ran(nb)
    nb.metadata = NotebookNode({
        "colab": {"provenance": [], "gpuType": "T4", "toc_visible": True},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        # Colab's widget block, without the "state" key nbconvert's renderer expects
        "widgets": {"application/vnd.jupyter.widget-state+json": {"41ab92590637ac82026ca65266b28984": {
            "model_module": "@jupyter-widgets/controls", "model_name": "HBoxModel", "model_module_version": "1.5.0",
            "state": {"children": [], "layout": "IPY_MODEL_5f93fd61a0736ac3a33fc51c7d852567"}}}},
    })
    for n, cell in enumerate(nb.cells):
        cell.metadata["id"] = f"Ij5pQkFu{n:04d}"
        if cell.cell_type == "code":
            cell.metadata["colab"] = {"base_uri": "https://localhost:8080/"}
            cell.metadata["outputId"] = f"6ea62965-174b-7b0d-8087-{n:012d}"
            cell.metadata["executionInfo"] = {"status": "ok", "timestamp": 1740000007919 + n, "user_tz": -60,
                                              "elapsed": 42, "user": {"displayName": "Student A", "userId": "0"}}
            cell.execution_count = None if n % 5 == 0 else 40 - n  # out of order, some never run
    drive = new_code_cell("# Colab: mount Drive so that the course package and data can be found\n"
                          "from google.colab import drive\n"
                          "drive.mount('/content/drive')\n"
                          "import sys\n"
                          "sys.path.append('/content/drive/MyDrive/recsys')")
    drive.outputs = [new_output("stream", name="stdout", text="Mounted at /content/drive\n")]
    nb.cells.insert(1, drive)
    nb.cells.insert(_index(nb, "setup-peek") + 1, new_code_cell("movielens.ratings.head()"))
    return _raw(nb, minor=0, ids=False)


def _jupyterlab(nb: NotebookNode) -> NotebookNode:
    """JupyterLab 4's metadata: ipykernel's display name, full language_info, execution timing, tags."""
    nb = copy.deepcopy(nb)
    nb.metadata.kernelspec = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata.language_info = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                 "pygments_lexer": "ipython3", "version": "3.12.4"}
    for cell in nb.cells:
        cell.metadata["tags"] = []
        if cell.cell_type == "code":
            cell.metadata["execution"] = {"iopub.execute_input": "2026-11-20T10:00:00.000Z",
                                          "shell.execute_reply": "2026-11-20T10:00:01.000Z"}
        else:
            cell.metadata["jp-MarkdownHeadingCollapsed"] = True
    return nb


def _stripped(nb: NotebookNode) -> bytes:
    """Every cell's metadata and id dropped (VS Code's Python extension on execute; a paste into a new notebook)."""
    nb = copy.deepcopy(nb)
    nb.metadata.kernelspec = {"display_name": "Python 3.11.7 ('.venv': venv)", "language": "python", "name": "python3"}
    for cell in nb.cells:
        cell.metadata = NotebookNode()
    return _raw(nb, minor=4, ids=False)


def _classic_conda(nb: NotebookNode) -> bytes:
    """The classic Notebook 6 with a conda environment's kernel this grader does not have."""
    nb = copy.deepcopy(nb)
    nb.metadata = NotebookNode({
        "kernelspec": {"display_name": "Python [conda env:recsys-course]", "language": "python",
                       "name": "conda-env-recsys-course-py"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": "3.9.18"},
        "toc": {"base_numbering": 1, "nav_menu": {}, "number_sections": True, "sideBar": True},
    })
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata["collapsed"] = False
            cell.metadata["scrolled"] = True
    return _raw(nb, minor=4, ids=False)


def _shell_and_pip(nb: NotebookNode) -> NotebookNode:
    """``%pip install`` on top of the Task 1 cell and an added cell of shell commands (Colab/Binder habits)."""
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, "task1-factors")]
    cell.source = "%pip install -q torch pandas\n" + cell.source
    return _insert(nb, "setup-imports", new_code_cell("!nvidia-smi\n!ls -la\n!pip list 2>/dev/null | grep -i torch"))


def _trailing_whitespace(nb: NotebookNode) -> NotebookNode:
    """Trailing spaces on every line of the provided cells, and a final newline (editors add or strip them)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("locked") and not grading.get("solution"):
            cell.source = "\n".join(line + "  " for line in cell.source.split("\n")) + "\n"
    return nb


def _delete(nb: NotebookNode, grade_id: str) -> NotebookNode:
    nb = copy.deepcopy(nb)
    del nb.cells[_index(nb, grade_id)]
    return nb


def _non_ascii(nb: NotebookNode) -> NotebookNode:
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, "task1-factors")]
    cell.source = ("# Übung 1: latente Faktoren – Größe (n_factors × n_users), Zoë Ñúñez ✓\n" + cell.source
                   + '\nprint("Faktoren bereit ✓ — 因子")')
    return _insert(nb, "task1-factors-test", new_markdown_cell("Notiz: die Faktoren sind klein (σ = 0,1) — ça marche 🙂"))


def wrapper(*steps: Callable) -> Callable:
    """Apply ``steps`` in order (the last may return bytes)."""
    def apply(nb):
        for step in steps:
            nb = step(nb)
        return nb
    return apply


# --------------------------------------------------------------------------- the cases

INPUT_CELL = new_code_cell('name = input("Your name: ")\nprint(f"Hello {name}")')

WRAPPERS = (
    Case("wrap-colab", "mf", "saved by Colab: nbformat 4.0 without cell ids, Colab cell metadata, out-of-order "
                             "execution counts, GPU accelerator, a widget block without 'state', an added Drive "
                             "mount cell (fails outside Colab) and an added cell that shows the ratings",
         wrap=_colab, flags=("added-cell",), in_process=False),
    Case("wrap-jupyterlab-split-cell", "deep", "JupyterLab 4 metadata; the answer cell split in two (helper "
                                               "function, class), both halves keeping the nbgrader metadata",
         code={"recommender-net": HELPER_NET},
         wrap=wrapper(_jupyterlab, lambda nb: _split(nb, "recommender-net", ["class RecommenderNet(nn.Module):"])),
         flags=("split-cell",), in_process=False),
    Case("wrap-split-in-three", "mf", "the Task 1 answer cell split into three (one per line, and a print)",
         edits=(("task1-factors", "movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()",
                 ("movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()\n"
                 "print(user_factors.shape, movies_factors.shape)")),),
         wrap=lambda nb: _split(nb, "task1-factors", [
             "movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()",
             "print(user_factors.shape, movies_factors.shape)"]),
         flags=("split-cell",), in_process=False),
    Case("wrap-answer-turned-markdown", "mf", "the Task 4 answer cell turned into Markdown (stray M) after it ran",
         wrap=lambda nb: _retype(nb, "task4-estimate", "markdown"), flags=("changed-cell-type",), in_process=False),
    Case("wrap-answer-turned-raw", "deep", "the RecommenderNet answer cell turned into a raw cell (stray R)",
         wrap=lambda nb: _retype(nb, "recommender-net", "raw"), flags=("changed-cell-type",), in_process=False),
    Case("wrap-test-cell-turned-markdown", "mf", "the Task 2 test cell turned into Markdown",
         wrap=lambda nb: _retype(nb, "task2-optimizer-test", "markdown"), flags=("changed-cell-type",),
         in_process=False),
    Case("wrap-vscode-stripped", "mf", "every cell's metadata and id dropped (VS Code), nbformat 4.4",
         wrap=_stripped, flags=("metadata-restored",), in_process=False),
    Case("wrap-stripped-deep", "deep", "the deep notebook with every cell's metadata and id dropped",
         wrap=_stripped, flags=("metadata-restored",), in_process=False),
    Case("wrap-classic-conda-kernel", "mf", "the classic Notebook, nbformat 4.4 without ids, an unknown conda kernel",
         wrap=_classic_conda, absent_flags=("edited-locked-cell", "added-cell"), in_process=False),
    Case("wrap-shell-and-pip", "mf", "%pip install on top of the Task 1 cell and an added cell of shell commands",
         wrap=_shell_and_pip, flags=("shell-command", "added-cell"), in_process=False),
    Case("wrap-huge-outputs", "mf", "saved with several MB of outputs (a long print, a large image) and a Task 1 "
                                    "cell that prints 200,000 lines while grading",
         edits=(("task1-factors", "movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()",
                 ("movies_factors = (0.1 * torch.randn(n_factors, n_movies)).requires_grad_()\n"
                 "print('\\n'.join(str(i) for i in range(200_000)))")),),
         wrap=lambda nb: _ran(nb, big=True), absent_flags=("background-thread",), in_process=False),
    Case("wrap-input-added-cell", "mf", "an added cell that asks for input(): it fails while grading, nothing else does",
         wrap=lambda nb: _insert(nb, "setup-peek", copy.deepcopy(INPUT_CELL)),
         flags=("asks-for-input", "added-cell"), in_process=False),
    Case("wrap-input-in-answer", "mf", "input() in the Task 1 answer cell: nobody answers, the cell stops, Task 1 "
                                       "loses its points (fresh factors keep the Training point)",
         edits=(("task1-factors", "user_factors = (0.1", ("scale = float(input('scale? ') or 0.1)\n"
                                                         "user_factors = (0.1")),),
         expected={T1_MF: 0}, message="user_factors is not defined", flags=("asks-for-input",), in_process=False),
    Case("wrap-nön-ascii-zoë", "mf", "a non-ASCII student id, non-ASCII comments, output and a Markdown note",
         wrap=_non_ascii, absent_flags=("added-cell",), in_process=False),
    Case("wrap-nbformat-4-0", "deep", "nbformat 4.0 without cell ids (older Jupyter)",
         wrap=lambda nb: _raw(nb, minor=0, ids=False), in_process=False),
    Case("wrap-nbformat-4-2", "mf", "nbformat 4.2 without cell ids",
         wrap=lambda nb: _raw(nb, minor=2, ids=False), in_process=False),
    Case("wrap-nbformat-3", "mf", "the old notebook format 3 (worksheets), as nbformat writes it",
         wrap=lambda nb: nbformat.writes(nbformat.convert(nb, 3), version=3).encode("utf-8"), in_process=False),
    Case("wrap-windows-line-endings", "mf", "Windows line endings (CRLF) in every cell and in the file",
         wrap=lambda nb: _raw(nb, crlf=True), absent_flags=("edited-locked-cell",), in_process=False),
    Case("wrap-utf8-bom", "deep", "a UTF-8 byte-order mark before the JSON (a Windows editor)",
         wrap=lambda nb: _raw(nb, bom=True), in_process=False),
    Case("wrap-saved-outputs", "deep", "saved after running: execution counts and outputs in every code cell",
         wrap=_ran, in_process=False),
    Case("wrap-trailing-whitespace", "mf", "trailing spaces on every line of the provided cells",
         wrap=_trailing_whitespace, absent_flags=("edited-locked-cell",), in_process=False),
    Case("wrap-added-cell-between-tasks", "mf", "a scratch cell added between Task 4 and the training",
         wrap=lambda nb: _insert(nb, "task4-estimate-test", new_code_cell(
             "# my check\nprint(calc_loss(ratings, estimate(user_factors, movies_factors), exist))")),
         flags=("added-cell",), in_process=False),
    Case("wrap-markdown-note", "deep", "a Markdown note added after the task text",
         wrap=lambda nb: _insert(nb, "model-md", new_markdown_cell("**My notes.** Users first, then movies.")),
         absent_flags=("added-cell", "edited-locked-cell"), in_process=False),
    Case("wrap-deleted-provided-cell", "mf", "the provided cell after Task 1 (usable_factors) deleted: the grader "
                                             "puts it back",
         wrap=lambda nb: _delete(nb, "task1-usable"), flags=("deleted-locked-cell",), in_process=False),
    Case("wrap-deleted-test-cell", "deep", "the Task 2 test cell deleted: the grader puts it back and grades it",
         wrap=lambda nb: _delete(nb, "task2-forward-test"), flags=("deleted-locked-cell",), in_process=False),
)

# --------------------------------------------------------------------------- code written for a GPU

GPU = (
    Case("mf-gpu-guarded", "mf", "factors created on torch.device('cuda' if available else 'cpu')",
         edits=(("task1-factors", "user_factors = (0.1 * torch.randn(n_factors, n_users)).requires_grad_()",
                 ("device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
                 "user_factors = (0.1 * torch.randn(n_factors, n_users, device=device)).requires_grad_()")),
                ("task1-factors", "torch.randn(n_factors, n_movies)", "torch.randn(n_factors, n_movies, device=device)"))),
    Case("mf-gpu-unguarded", "mf", "factors moved with .cuda() on a grader without a GPU: Task 1 fails, fresh "
                                   "factors keep the other tasks",
         edits=(("task1-factors", "user_factors = (0.1 * torch.randn(n_factors, n_users)).requires_grad_()",
                 "user_factors = (0.1 * torch.randn(n_factors, n_users)).cuda().requires_grad_()"),
                ("task1-factors", "torch.randn(n_factors, n_movies)).requires_grad_()",
                 "torch.randn(n_factors, n_movies)).cuda().requires_grad_()")),
         expected={T1_MF: 0}, message="is not defined"),
    Case("deep-gpu-guarded", "deep", "forward moves its inputs to the model's device; the model picks cuda only "
                                     "when available",
         edits=(("recommender-net", "        self._init()\n",
                 "        self._init()\n        self.to('cuda' if torch.cuda.is_available() else 'cpu')\n"),
                ("recommender-net", "        x = torch.cat([self.users(users), self.movies(movies)], dim=1)\n",
                 ("        device = self.users.weight.device\n"
                 "        users, movies = users.to(device), movies.to(device)\n"
                 "        x = torch.cat([self.users(users), self.movies(movies)], dim=1)\n")))),
    Case("deep-gpu-unguarded-forward", "deep", "forward calls users.cuda() on a grader without a GPU: Task 2 fails",
         edits=(("recommender-net", "        x = torch.cat([self.users(users), self.movies(movies)], dim=1)\n",
                 ("        users, movies = users.cuda(), movies.cuda()\n"
                 "        x = torch.cat([self.users(users), self.movies(movies)], dim=1)\n")),),
         expected={T2_DEEP: 0}, message="Torch not compiled with CUDA enabled"),
    Case("deep-gpu-unguarded-init", "deep", "__init__ ends with self.cuda() on a grader without a GPU: Task 1 "
                                            "fails, forward is graded on layers of the specified shapes",
         edits=(("recommender-net", "        self._init()\n", "        self._init()\n        self.cuda()\n"),),
         expected={T1_DEEP: 0}, message="Torch not compiled with CUDA enabled"),
)

CASES = WRAPPERS + GPU
