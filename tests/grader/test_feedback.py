"""What a feedback page may show a student of the grading machine: no paths of its own."""

from __future__ import annotations

import sys

import pytest

from grader.feedback import hide_paths, not_graded_page


@pytest.mark.parametrize("text, shown", [
    (f"{sys.prefix}/lib/python3.11/site-packages/IPython/core/interactiveshell.py:3831: UserWarning: To exit",
     "IPython/core/interactiveshell.py:3831: UserWarning: To exit"),
    ('File "/usr/lib/python3/dist-packages/numpy/core/x.py", line 3', 'File "numpy/core/x.py", line 3'),
    (f"{sys.prefix}/bin/python: not found", ".../bin/python: not found"),
    ("cwd /tmp/grade-1a2b3c4d-xyz_9/autograded/s/mf", "cwd .../autograded/s/mf"),
    ("ValueError: expected 5 ratings, got 4", "ValueError: expected 5 ratings, got 4"),
])
def test_the_grading_machines_paths_are_hidden(text, shown):
    assert hide_paths(text) == shown


def test_a_not_graded_page_escapes_what_it_quotes():
    page = not_graded_page("<b>s</b>", "mf", "mf.ipynb", "not JSON: '<' at 1")
    assert "<b>s</b>" not in page and "&lt;b&gt;s&lt;/b&gt;" in page and "Score: 0" in page


def test_a_print_split_over_two_stream_messages_is_one_output():
    from nbformat.v4 import new_output

    from grader.feedback import merge_streams

    outputs = [new_output("stream", name="stdout", text="Training skipped."), new_output("stream", name="stdout", text="\n"),
               new_output("stream", name="stderr", text="warning\n"), new_output("stream", name="stdout", text="after\n")]
    merged = merge_streams(outputs)
    assert [(o.name, o.text) for o in merged] == [("stdout", "Training skipped.\n"), ("stderr", "warning\n"),
                                                  ("stdout", "after\n")]
