"""Small Sphinx additions for this book (loaded via ``sphinx.local_extensions``).

1. Every executed chapter can be downloaded as ``.ipynb``.
   sphinx-book-theme only adds a ``.ipynb`` entry to a MyST Markdown
   notebook's download menu when a launch service (Binder, JupyterHub, ...)
   is configured. This book has none (it must work offline), so we do the copy
   ourselves: MyST-NB writes each executed notebook to
   ``_build/jupyter_execute/<page>.ipynb``; we copy it to
   ``_build/html/_sources/<page>.ipynb`` and tell the theme, so the download
   menu offers ``.md`` (the source), ``.ipynb`` (with outputs) and ``.pdf``.

2. The role ``{student-notebook}`mf/mf.ipynb``` links to the released student
   notebook ``exercises/mf/mf.ipynb`` (made by ``make release``). When the file
   exists it is exactly Sphinx's ``{download}`` role (the file is copied into
   ``_build/html/_downloads/``); when it does not exist yet the page says so
   instead of failing the ``-W`` build, and the page is re-read on every build
   until the notebook appears.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

logger = logging.getLogger(__name__)

EXERCISES_DIR = "exercises"  # relative to the book's source dir (the repository root)


def _add_ipynb_source(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    if not context.get("sourcename", "").endswith((".md", ".md.txt")):
        return  # .ipynb sources already get a notebook download
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


class StudentNotebookRole(SphinxRole):
    """``{student-notebook}`<assignment>/<notebook>.ipynb``` (path below exercises/)."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        relpath = self.text.strip().lstrip("/")
        target = f"/{EXERCISES_DIR}/{relpath}"  # leading "/" = relative to the source dir
        if (Path(self.env.srcdir) / EXERCISES_DIR / relpath).is_file():
            download = XRefRole(nodeclass=addnodes.download_reference)
            return download(
                "download",
                self.rawtext,
                f"{Path(relpath).name} <{target}>",
                self.lineno,
                self.inliner,
                self.options,
                self.content,
            )
        # Not released yet: a missing dependency makes Sphinx re-read this page
        # on every build, so the link appears as soon as the notebook exists.
        self.env.note_dependency(f"{EXERCISES_DIR}/{relpath}")
        logger.info(
            "student notebook %s/%s does not exist yet (run `make release`)",
            EXERCISES_DIR,
            relpath,
            location=self.get_location(),
        )
        placeholder = nodes.inline(classes=["student-notebook-missing"])
        placeholder += nodes.literal(text=f"{EXERCISES_DIR}/{relpath}")
        placeholder += nodes.Text(" (not released yet: run make release)")
        return [placeholder], []


def setup(app: Sphinx) -> dict:
    # Before sphinx-book-theme builds the header buttons (priority 501).
    app.connect("html-page-context", _add_ipynb_source, priority=500)
    app.add_role("student-notebook", StudentNotebookRole())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
