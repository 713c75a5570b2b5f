"""The nbgrader preprocessor that makes feedback safe to hand to students.

nbgrader's default feedback shows every cell as autograded: the hidden tests'
source and full tracebacks, whose frames quote the hidden test lines. This
preprocessor, run by ``nbgrader generate_feedback`` (see the top-level
``nbgrader_config.py``), removes the ``### BEGIN HIDDEN TESTS`` ...
``### END HIDDEN TESTS`` regions from every cell and replaces each error's
traceback by its last line, ``AssertionError: <the check's message>``. The
score of every cell is untouched (it comes from the gradebook).

Importing this module needs nbgrader (the ``grading`` extra).
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import List


class StudentFeedback(ClearHiddenTests):
    """Remove hidden tests from the source and shorten every error to ``Name: message``."""

    # The HTML exporter passes this option to every preprocessor; declaring it
    # configurable (as nbgrader's GetGrades does) avoids a warning per run.
    display_data_priority = List(
        ["text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        """Clear the hidden-test region of one cell and reduce its error outputs to one line each."""
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    summary = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                    output["traceback"] = [summary]
        return cell, resources
