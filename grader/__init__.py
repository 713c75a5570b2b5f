"""The grading engine: the instructor's side of the course's nbgrader assignments (``make grade``).

It never runs student code in its own process. Each submission's notebook
runs in a sandboxed kernel (bubblewrap) where the hidden tests only *record*
the student's answers (:mod:`recsys_ref.grading`, the kernel side); the
checks that decide the scores run here, comparing those records with the
reference implementation.

One module per step, in the order ``make grade`` runs them:

========================  ============================================================
:mod:`grader.intake`      learning-platform zips (Canvas, Blackboard, Moodle) into ``submitted/``
:mod:`grader.releases`    every release students received (cell fingerprints)
:mod:`grader.staging`     the graded copy of a notebook: the student's code, the release's structure
:mod:`grader.inspection`  what the code does that an instructor should know (flags)
:mod:`grader.sandbox`     the bubblewrap sandbox and resource limits of each kernel
:mod:`grader.autograde`   one submission graded in a scratch course (nbgrader, in-process)
:mod:`grader.checks`      the checks of each assignment's tasks (trusted; compare with ``recsys_ref``)
:mod:`grader.scoring`     probes out, records in, checks, scores into the gradebook
:mod:`grader.scheduling`  serially, in worker processes, or on a Dask cluster
:mod:`grader.gradebook`   the course's nbgrader gradebook, merged from the scratch courses
:mod:`grader.feedback`    the students' feedback pages
:mod:`grader.report`      ``grading_report.csv`` and the terminal summary
:mod:`grader.cohort`      what the class got wrong (``cohort_summary.md``)
:mod:`grader.export`      ``grades.csv``, the late policy, Canvas and Moodle import files
:mod:`grader.pipeline`    all of the above, in order; :mod:`grader.cli` is ``python -m grader``
========================  ============================================================

Settings live in the course's ``nbgrader_config.py`` (:mod:`grader.settings`).
"""
