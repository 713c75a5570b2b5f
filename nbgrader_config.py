"""nbgrader configuration of the course (nbgrader 0.9), and the grader's settings.

The repository root is the course directory: run nbgrader from here (or use
`make release` / `make grade`, which do). Layout:

    solutions/<assignment>/<notebook>.ipynb   instructor notebooks (nbgrader's "source"), in git
    exercises/<assignment>/<notebook>.ipynb   student notebooks (nbgrader's "release"), generated, in git
    submitted/<student>/<assignment>/         students' notebooks          } ignored by git:
    autograded/, feedback/                    nbgrader's output             } student work and
    gradebook.db, grades.csv, ...             the gradebook, the grades     } grades stay local

`make grade` (the package `grader`) reads the settings below that start with
`c.Grading...` and `c.LatePolicy`; every one of them is documented, with its
default, in grader/settings.py. A misspelt setting stops `make grade` with a
message.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "recsys"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook is nbgrader's default, sqlite:///<course directory>/gradebook.db.

# Files in an assignment folder that are never released nor collected. The
# notebook `mf` writes answer_ratings.csv next to itself when it runs.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "answer_ratings.csv",
]

# Per-cell time limit when grading (and in `nbgrader validate`). While grading,
# the notebooks skip their ungraded training cells, so a cell takes a second
# or two; 120 s leaves room for a slow machine while a student's endless loop
# fails its cell instead of stalling the batch.
c.Execute.timeout = 120

# Each submission's kernel while `make grade` grades it (not students' own
# kernels, nor `nbgrader validate`): a bubblewrap sandbox (see grader/sandbox.py)
# under these limits. 0 turns a limit off.
c.GradingLimits.memory_mb = 4096        # address space (RLIMIT_AS); torch needs ~1.5 GB of it
c.GradingLimits.file_mb = 100           # largest file a kernel may write (RLIMIT_FSIZE)
c.GradingLimits.processes = 256         # processes and threads in the sandbox at once (a pids cgroup)
c.GradingLimits.cpu_seconds = 0         # total CPU seconds of a kernel (RLIMIT_CPU)
c.GradingLimits.notebook_seconds = 600  # wall time of a whole notebook; then its sandbox is killed
c.GradingLimits.max_regrades = 3        # a notebook whose kernel died is graded again without the cell that ran

# Where the course book is published: failure messages in the feedback then link
# to the section that explains the mistake (otherwise they name the section).
c.GradingFeedback.book_url = ""

# Late submissions (from the timestamps the learning platform's zip carries, or
# submitted/<student>/<assignment>/timestamp.txt). Example:
#   c.LatePolicy.deadlines = {"mf": "2026-12-14 23:59", "deep": "2027-01-11 23:59"}
#   c.LatePolicy.penalty_per_day = 0.1     # 10 % of the score per started day late
#   c.LatePolicy.zero_after_days = 7       # 0 after a week
c.LatePolicy.deadlines = {}
