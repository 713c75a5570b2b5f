"""The feedback students get: nbgrader's HTML feedback, safe to hand out.

nbgrader's default feedback shows every cell as autograded, including the
hidden tests' source and full tracebacks whose frames would quote them.
:class:`StudentFeedback`, run by ``generate_feedback``
(:mod:`grader.autograde`), removes the ``### BEGIN HIDDEN TESTS`` ...
``### END HIDDEN TESTS`` regions and shortens every error to one line. The
graded cells' outputs are the grader's verdicts (:func:`grader.scoring.store`):
the task's score and, for a lost task, what to fix and where the book
explains it.

:func:`not_graded_page` is the feedback for a submission that could not be
graded at all (a damaged file, a wrong notebook): it says why.
"""

from __future__ import annotations

import html

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import List


class StudentFeedback(ClearHiddenTests):
    """Remove hidden tests from the source, shorten every error to ``Name: message``, and merge each run of
    stream outputs of one stream into one (the kernel sends a print's text and its newline in one message or
    two, as its output thread's timer falls: the page must not depend on that)."""

    # The HTML exporter passes this option to every preprocessor; declaring it
    # configurable (as nbgrader's GetGrades does) avoids a warning per run.
    display_data_priority = List(
        ["text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        """Clear the hidden-test region of one cell, reduce its error outputs to one line each, hide paths."""
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.get("outputs", []))
            for output in cell.outputs:
                if output.get("output_type") == "error":
                    summary = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                    output["traceback"] = [hide_paths(summary)]
                    output["evalue"] = hide_paths(output.get("evalue", ""))
                elif output.get("output_type") == "stream":
                    output["text"] = hide_paths(output.get("text", ""))
        return cell, resources


def merge_streams(outputs: list) -> list:
    """``outputs`` with each run of consecutive outputs of the same stream (stdout, stderr) joined into one."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = previous.get("text", "") + output.get("text", "")
        else:
            merged.append(output)
    return merged


def hide_paths(text: str) -> str:
    """The grading machine's own paths (its Python, the scratch course) replaced by ``...``, for students' eyes."""
    import re
    import sys

    # An installed library's file is named from its package: ".../site-packages/IPython/x.py" -> "IPython/x.py".
    text = re.sub(r"[^\s\"'(]*/(?:site|dist)-packages/", "", text)
    for prefix in sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}, key=len, reverse=True):
        if prefix and prefix != "/":
            text = text.replace(prefix, "...")
    return re.sub(r"/tmp/grade-[\w-]+", "...", text)


def not_graded_page(student: str, assignment: str, notebook: str, reason: str) -> str:
    """A short HTML page telling a student why their submission was not graded."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(assignment)}: not graded</title></head><body>"
        f"<h1>{html.escape(assignment)}: your submission was not graded</h1>"
        f"<p>Student: {html.escape(student)}. Notebook: {html.escape(notebook)}.</p>"
        f"<p><strong>Why:</strong> {html.escape(reason)}.</p>"
        "<p>Score: 0. Fix the file and hand it in again, or ask your instructor.</p>"
        "</body></html>\n"
    )
