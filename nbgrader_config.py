"""nbgrader configuration of the course (nbgrader 0.9).

The repository root is the course directory: run nbgrader from here (or use
`make release` / `make grade`, which do). Layout:

    solutions/<assignment>/<notebook>.ipynb   instructor notebooks (nbgrader's "source"), in git
    exercises/<assignment>/<notebook>.ipynb   student notebooks (nbgrader's "release"), generated, in git
    submitted/<student>/<assignment>/         students' notebooks          } ignored by git:
    autograded/, feedback/                    nbgrader's output             } student work and
    gradebook.db, grades.csv                  the gradebook, the grades     } grades stay local
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

# Per-cell time limit when autograding (and in `nbgrader validate`). The
# slowest cells, the training cells, take 3-12 s on 2 cores (25 s on a heavily
# loaded machine); 120 s leaves room for a slow machine while a student's
# endless loop fails its cell instead of stalling the whole batch.
c.Execute.timeout = 120

# Limits of each submission's kernel during `make grade` (not for students, nor
# `nbgrader validate`): scripts/grade.py starts every grading kernel through
# recsys_ref/grading/sandbox.py, which applies them, and loads
# recsys_ref/grading/guard.py, which undoes monkeypatching after each cell.
# 0 turns a limit off. The per-cell limit is Execute.timeout above.
c.GradingLimits.memory_mb = 4096        # address space (RLIMIT_AS); torch needs ~1.5 GB of it
c.GradingLimits.file_mb = 100           # largest file a kernel may write (RLIMIT_FSIZE)
c.GradingLimits.processes = 0           # RLIMIT_NPROC, counted per user (not enforced for root); e.g. 2000
c.GradingLimits.cpu_seconds = 0         # total CPU seconds of a kernel (RLIMIT_CPU)
c.GradingLimits.notebook_seconds = 600  # wall time of a whole notebook; then its kernel is killed
c.GradingLimits.max_regrades = 3        # a notebook whose kernel died is graded again without the cell that ran

# A student who deleted a graded cell gets it back (and is graded on it),
# instead of the notebook scoring 0 for that cell silently.
c.OverwriteCells.add_missing_cells = True

# Feedback shows each test's message but neither the hidden tests' source nor
# tracebacks (whose frames would quote the hidden lines): see
# recsys_ref/grading/feedback.py. The HTML keeps nbgrader's feedback template.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from recsys_ref.grading.feedback import StudentFeedback  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, StudentFeedback, CSSHTMLHeaderPreprocessor]

# `nbgrader zip_collect <assignment>` (what `make grade ZIP=...` runs) extracts
# the zips in downloads/<assignment>/archive/ and reads the student id and the
# notebook from each file name, matching this pattern against the full path.
# It accepts the usual learning-platform names, "<student>_<anything>_<notebook>.ipynb"
# (Canvas: "smithjane_1234_5678_mf.ipynb", "mf-1.ipynb" for a re-upload), and
# "<student>_mf.ipynb". Adapt it to your platform's file names.
c.ZipCollectApp.downloaded_directory = "downloads"  # downloads/<assignment>/archive/<zip>; ignored by git
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9.\-]+)_(?:[^/]*_)?(?P<file_id>[A-Za-z0-9]+?)(?:-\d+)?\.ipynb$"
)
