"""grader.export: the late policy, grades.csv, Canvas's and Moodle's import files, from a real nbgrader gradebook."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from grader import export
from grader.report import TaskScore
from grader.settings import LatePolicy

DEADLINE = "2026-12-14 23:59"
DUE = datetime(2026, 12, 14, 23, 59)
NOW = datetime(2026, 12, 20, 9, 0)

#: assignment -> {task: points}; one notebook per assignment, named as the assignment.
TASKS = {"mf": {"task1-factors-test": 2.0, "task3-calc-loss-test": 3.0}, "deep": {"deep1-net-test": 4.0}}
STUDENTS = [("alice", "Alice", "Smith"), ("bob", "Bob", "Doe"), ("carol", "Carol", "King"),
            ("dave", "Dave", "Lee"), ("erin", "Erin", "Moss")]
#: (student, assignment, timestamp, {task: auto_score or None})
SUBMISSIONS = [
    ("alice", "mf", "2026-12-15 00:00:00", {"task1-factors-test": 2.0, "task3-calc-loss-test": 3.0}),  # 1 min late
    ("bob", "mf", "2026-12-14 20:00:00", {"task1-factors-test": 2.0, "task3-calc-loss-test": 0.0}),    # on time
    ("bob", "deep", None, {"deep1-net-test": 4.0}),                                                    # no time
    ("dave", "mf", "2026-12-14 23:00:00", {"task1-factors-test": 0.0, "task3-calc-loss-test": 0.0}),  # damaged file
    ("erin", "mf", "2026-12-14 21:00:00", {"task1-factors-test": 2.0, "task3-calc-loss-test": None}),  # unscored task
]
ROSTER = """student,platform,name,platform_id
alice,canvas,"Smith, Alice",5012
bob,canvas,"Doe, Bob",5013
dave,canvas,"Lee, Dave",
erin,moodle,Erin Moss,30817
"""


def policy(**values) -> LatePolicy:
    config = Config()
    for name, value in {"deadlines": {"mf": DEADLINE}, "penalty_per_day": 0.1, **values}.items():
        setattr(config.LatePolicy, name, value)
    return LatePolicy(config=config)


def settings(config: Config | None = None, **values) -> SimpleNamespace:
    config = config or Config()
    for name, value in {"deadlines": {"mf": DEADLINE}, "penalty_per_day": 0.1, **values}.items():
        setattr(config.LatePolicy, name, value)
    return SimpleNamespace(late=LatePolicy(config=config), config=config)


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def records(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(handle)}


# --------------------------------------------------------------------------- fixtures: a small course


@pytest.fixture(scope="session")
def empty_gradebook(tmp_path_factory) -> bytes:
    """An empty gradebook.db, made once per session.

    nbgrader stamps a new gradebook with its schema version by running the
    `alembic` command in a new interpreter; the same head is read here
    in-process, which saves seconds.
    """
    import os

    import nbgrader
    import nbgrader.api
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    alembic = AlembicConfig()
    alembic.set_main_option("script_location", os.path.join(os.path.dirname(nbgrader.__file__), "alembic"))
    head = ScriptDirectory.from_config(alembic).get_current_head()
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nbgrader.api, "get_alembic_version", lambda: head)
        with nbgrader.api.Gradebook(f"sqlite:///{path}", "recsys"):
            pass
    return path.read_bytes()


@pytest.fixture(scope="session")
def class_gradebook(tmp_path_factory, empty_gradebook) -> bytes:
    """The fixture class's gradebook (:data:`SUBMISSIONS`), built once per session."""
    return (build_course(tmp_path_factory.mktemp("class"), empty_gradebook) / "gradebook.db").read_bytes()


def build_course(root: Path, template: bytes, *, populate: bool = True) -> Path:
    """A course folder: gradebook.db (populated from :data:`SUBMISSIONS` unless it is already), submitted/, roster."""
    from nbgrader.api import Gradebook

    root.mkdir(parents=True, exist_ok=True)
    (root / "gradebook.db").write_bytes(template)
    if populate:
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "recsys") as gb:
            for assignment, tasks in TASKS.items():
                gb.add_assignment(assignment)
                gb.add_notebook(assignment, assignment)
                for task, points in tasks.items():
                    gb.add_grade_cell(task, assignment, assignment, max_score=points, cell_type="code")
            for student, first, last in STUDENTS:
                gb.add_student(student, first_name=first, last_name=last)
            for student, assignment, stamp, scores in SUBMISSIONS:
                gb.add_submission(assignment, student, **({"timestamp": stamp} if stamp else {}))
                for task, score in scores.items():
                    grade = gb.find_grade(task, assignment, assignment, student)
                    grade.auto_score = score
                    grade.needs_manual_grade = score is None
            gb.db.commit()
    for student, assignment, _, _ in SUBMISSIONS:
        (root / "submitted" / student / assignment).mkdir(parents=True, exist_ok=True)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return root


@pytest.fixture
def course(tmp_path, class_gradebook) -> Path:
    return build_course(tmp_path / "course", class_gradebook, populate=False)


#: The grading report says dave's file could not be graded.
REPORT = [TaskScore("dave", "mf", "mf", task, 0.0, points, "the notebook could not be graded: invalid JSON",
                    status="not graded") for task, points in TASKS["mf"].items()]


def run(course: Path, config: Config | None = None, *, roster: str | None = ROSTER, **kwargs) -> export.ExportSummary:
    values = {k: kwargs.pop(k) for k in ("deadlines", "penalty_per_day", "zero_after_days", "grace_minutes")
              if k in kwargs}
    if roster is not None:
        (course / "roster.csv").write_text(roster, encoding="utf-8")
    return export.write_exports(course, kwargs.pop("assignments", ["mf", "deep"]), settings(config, **values),
                                course / "roster.csv", course / "out", report_rows=kwargs.pop("report_rows", REPORT),
                                now=NOW, **kwargs)


# --------------------------------------------------------------------------- the late policy


@pytest.mark.parametrize("stamp, days, fraction, words", [
    (DUE - timedelta(hours=3), 0, 0.0, "On time"),
    (DUE, 0, 0.0, "On time"),
    (DUE + timedelta(minutes=1), 1, 0.1, "1 min after the deadline (2026-12-14 23:59): 1 started day late, 10 % off"),
    (DUE + timedelta(hours=24), 1, 0.1, "1 started day late"),
    (DUE + timedelta(hours=24, seconds=1), 2, 0.2, "2 started days late, 20 % off"),
])
def test_started_days_count_from_the_deadline(stamp, days, fraction, words):
    late = export.late_penalty(policy(), "mf", stamp)
    assert (late.days_late, late.fraction) == (days, pytest.approx(fraction))
    assert words in late.reason


def test_grace_period_is_on_time_and_then_days_count_from_the_deadline():
    rule = policy(grace_minutes=10.0)
    within = export.late_penalty(rule, "mf", DUE + timedelta(minutes=10))
    assert (within.days_late, within.fraction) == (0, 0.0)
    assert "within the 10-minute grace period: on time" in within.reason
    after = export.late_penalty(rule, "mf", DUE + timedelta(minutes=11))
    assert (after.days_late, after.fraction) == (1, pytest.approx(0.1))


def test_cut_off_gives_zero_only_after_that_many_days():
    rule = policy(zero_after_days=3.0)
    at = export.late_penalty(rule, "mf", DUE + timedelta(days=3))
    assert (at.days_late, at.fraction) == (3, pytest.approx(0.3))
    after = export.late_penalty(rule, "mf", DUE + timedelta(days=3, minutes=1))
    assert (after.days_late, after.fraction) == (4, 1.0)
    assert "more than 3 days late, so the score is 0" in after.reason


def test_penalty_is_capped_at_the_whole_score():
    late = export.late_penalty(policy(penalty_per_day=0.4), "mf", DUE + timedelta(days=2, hours=1))
    assert (late.days_late, late.fraction) == (3, 1.0)


def test_late_without_a_penalty_still_says_how_late():
    late = export.late_penalty(policy(penalty_per_day=0.0), "mf", DUE + timedelta(days=1, hours=2))
    assert (late.days_late, late.fraction) == (2, 0.0)
    assert "1 day 2 h after the deadline" in late.reason and "sets no penalty" in late.reason


def test_no_timestamp_no_penalty_and_says_so():
    late = export.late_penalty(policy(), "mf", None)
    assert (late.days_late, late.fraction) == (None, 0.0)
    assert "No submission time was recorded" in late.reason
    marked = export.late_penalty(policy(), "mf", None, marked_late=True)
    assert marked.fraction == 0.0
    assert "marked it late" in marked.reason and "check the submission time" in marked.reason


def test_no_deadline_no_penalty():
    late = export.late_penalty(policy(), "deep", DUE + timedelta(days=9))
    assert (late.days_late, late.fraction) == (None, 0.0)
    assert "No deadline is set for deep" in late.reason


def test_extension_moves_the_deadline():
    late = export.late_penalty(policy(), "mf", DUE + timedelta(days=1), extension=timedelta(days=2))
    assert (late.days_late, late.fraction) == (0, 0.0)
    assert "2026-12-16 23:59, with an extension of 2 days" in late.reason
    after = export.late_penalty(policy(), "mf", DUE + timedelta(days=2, minutes=5), extension=timedelta(days=2))
    assert after.days_late == 1


def test_deadline_with_a_zone_is_compared_in_utc():
    assert export.parse_deadline("mf", "2026-12-14T23:59:00+01:00") == datetime(2026, 12, 14, 22, 59)
    assert export.parse_deadline("mf", "2026-12-14T23:59:00Z") == DUE
    assert export.parse_deadline("mf", DEADLINE) == DUE


@pytest.mark.parametrize("value, words", [
    ("2026-12-32 23:59", "is not a date and time"),
    ("14/12/2026 23:59", "is not a date and time"),
    ("2026-12-14", "has no time of day"),
    ("", "is not a date and time"),
])
def test_bad_deadline_names_the_assignment_and_the_value(value, words):
    with pytest.raises(ValueError, match=words) as caught:
        export.parse_deadline("mf", value)
    assert f"deadlines['mf'] = {value!r}" in str(caught.value)
    rule = policy(deadlines={"mf": value})
    assert any(f"{value!r}" in p and words in p for p in export.check_late_policy(rule))
    with pytest.raises(ValueError, match=words):
        export.late_penalty(rule, "mf", DUE)


def test_deadline_of_an_assignment_of_the_course_not_yet_in_the_gradebook_is_fine(course):
    (course / "solutions" / "rank").mkdir(parents=True)
    (course / "solutions" / "rank" / "rank.ipynb").write_text("{}", encoding="utf-8")
    summary = run(course, deadlines={"mf": DEADLINE, "rank": DEADLINE, "rnak": DEADLINE})
    assert not any("'rank'" in p for p in summary.problems)
    assert any("names 'rnak', which is not an assignment" in p for p in summary.problems)


def test_policy_numbers_and_unknown_assignments_are_problems():
    problems = export.check_late_policy(policy(penalty_per_day=10.0, grace_minutes=-1.0,
                                               deadlines={"mf": DEADLINE, "mff": DEADLINE}), ["mf", "deep"])
    assert any("penalty_per_day = 10.0 is not a fraction" in p for p in problems)
    assert any("grace_minutes = -1.0 is negative" in p for p in problems)
    assert any("names 'mff', which is not an assignment" in p and "deep, mf" in p for p in problems)
    with pytest.raises(ValueError, match="penalty_per_day"):
        export.late_penalty(policy(penalty_per_day=10.0), "mf", DUE)


# --------------------------------------------------------------------------- grades.csv


def test_grades_csv_every_student_every_assignment_and_every_column(course):
    summary = run(course)
    path = course / "out" / export.GRADES_FILE
    assert path in summary.written
    rows = read_csv(path)
    assert tuple(rows[0]) == export.GRADES_COLUMNS
    table = records(path)
    assert set(table) == {(s, a) for s, _, _ in STUDENTS for a in TASKS}  # carol submitted nothing: still there
    assert table["alice", "mf"] == {
        "student": "alice", "name": "Smith, Alice", "assignment": "mf", "status": "graded", "raw_score": "5",
        "max_score": "5", "timestamp": "2026-12-15 00:00:00", "deadline": "2026-12-14 23:59:00", "days_late": "1",
        "penalty": "0.5", "score": "4.5",
        "late_note": "Submitted 1 min after the deadline (2026-12-14 23:59): 1 started day late, 10 % off "
                     "(10 % per started day)."}
    bob = table["bob", "mf"]
    assert (bob["status"], bob["raw_score"], bob["days_late"], bob["penalty"], bob["score"]) == (
        "graded", "2", "0", "0", "2")
    assert table["bob", "deep"]["timestamp"] == "" and table["bob", "deep"]["score"] == "4"
    assert "No deadline is set for deep" in table["bob", "deep"]["late_note"]


def test_grades_csv_leaves_scores_empty_where_nothing_was_handed_in(course):
    run(course)
    table = records(course / "out" / export.GRADES_FILE)
    for key in [("carol", "mf"), ("carol", "deep"), ("alice", "deep")]:
        row = table[key]
        assert row["status"] == "not submitted"
        assert [row[c] for c in ("raw_score", "timestamp", "days_late", "penalty", "score")] == [""] * 5
        assert row["max_score"] == ("5" if key[1] == "mf" else "4")


def test_damaged_file_is_zero_and_an_unscored_task_is_empty(course):
    summary = run(course)
    table = records(course / "out" / export.GRADES_FILE)
    assert (table["dave", "mf"]["status"], table["dave", "mf"]["score"]) == ("not graded", "0")
    erin = table["erin", "mf"]
    assert (erin["status"], erin["raw_score"], erin["score"]) == ("incomplete", "2", "")
    assert any("erin's mf: 1 task(s) have no score yet" in p for p in summary.problems)


def test_manual_score_counts_over_the_autograder(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "recsys") as gb:
        grade = gb.find_grade("task3-calc-loss-test", "mf", "mf", "bob")
        grade.manual_score = 1.5
        gb.db.commit()
    run(course)
    assert records(course / "out" / export.GRADES_FILE)["bob", "mf"]["score"] == "3.5"


def test_bad_deadline_leaves_final_scores_empty_and_the_assignment_out_of_the_platform_files(course):
    summary = run(course, deadlines={"mf": "2026-12-14"})
    table = records(course / "out" / export.GRADES_FILE)
    assert table["alice", "mf"]["raw_score"] == "5" and table["alice", "mf"]["score"] == ""
    assert "has no time of day" in table["alice", "mf"]["late_note"]
    assert any("deadlines['mf'] = '2026-12-14' has no time of day" in p for p in summary.problems)
    assert any("mf is left out of the platform files until c.LatePolicy is fixed" in p for p in summary.problems)
    header = read_csv(course / "out" / export.CANVAS_FILE)[0]
    assert header == list(export.CANVAS_STUDENT_COLUMNS) + ["deep"]
    assert not (course / "out" / export.MOODLE_FILE.format(assignment="mf")).exists()


def test_penalty_out_of_range_leaves_scores_with_a_deadline_empty(course):
    summary = run(course, penalty_per_day=1.5)
    table = records(course / "out" / export.GRADES_FILE)
    assert table["alice", "mf"]["score"] == "" and "penalty_per_day = 1.5" in table["alice", "mf"]["late_note"]
    assert table["bob", "deep"]["score"] == "4"  # no deadline: nothing to decide
    assert any("penalty_per_day = 1.5 is not a fraction" in p for p in summary.problems)


# --------------------------------------------------------------------------- Canvas


def test_canvas_gradebook_import(course):
    config = Config()
    config.CanvasExportPlugin.assignment_ids = {"mf": 12345, "deep": 12346}
    summary = run(course, config)
    path = course / "out" / export.CANVAS_FILE
    assert path in summary.written
    assert read_csv(path) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "mf (12345)", "deep (12346)"],
        ["Points Possible", "", "", "", "", "5", "4"],
        ["Smith, Alice", "5012", "", "", "", "4.5", ""],
        ["Doe, Bob", "5013", "", "", "", "2", "4"],
    ]
    assert not any(p.startswith("Canvas: no assignment id") for p in summary.problems)


def test_canvas_problems_name_students_without_ids_and_columns_without_assignment_ids(course):
    summary = run(course)
    assert read_csv(course / "out" / export.CANVAS_FILE)[0][5:] == ["mf", "deep"]
    assert any("Canvas: dave has no Canvas user id in the roster (row 4): left out of canvas_grades.csv" in p
               for p in summary.problems)
    assert any("Canvas: no assignment id for mf" in p and "creates a new one" in p for p in summary.problems)
    assert not any("carol" in p for p in summary.problems)  # not in the roster, but nothing to post


def test_student_with_grades_missing_from_the_roster_is_a_problem(course):
    summary = run(course, roster=ROSTER.replace('alice,canvas,"Smith, Alice",5012\n', ""))
    assert any("not in the roster" in p and "alice" in p for p in summary.problems)
    assert all(row[0] != "Smith, Alice" for row in read_csv(course / "out" / export.CANVAS_FILE))


def test_canvas_column_names():
    assert export.canvas_column("mf", {"mf": 12345}) == "mf (12345)"
    assert export.canvas_column("deep", {"mf": 12345}) == "deep"


# --------------------------------------------------------------------------- Moodle


def test_moodle_grading_worksheet_per_assignment(course):
    roster = ROSTER + "alice,moodle,Alice Smith,30816\n"
    summary = run(course, roster=roster)
    path = course / "out" / export.MOODLE_FILE.format(assignment="mf")
    assert path in summary.written
    assert read_csv(path) == [
        list(export.MOODLE_COLUMNS),
        ["Participant 30816", "Alice Smith", "graded", "4.5", "5", "2026-12-15 00:00:00", "2026-12-20T09:00:00"],
        ["Participant 30817", "Erin Moss", "incomplete", "", "5", "2026-12-14 21:00:00", "2026-12-20T09:00:00"],
    ]
    deep = read_csv(course / "out" / export.MOODLE_FILE.format(assignment="deep"))
    assert deep[1][:4] == ["Participant 30816", "Alice Smith", "not submitted", ""]  # empty: Moodle skips it


def test_moodle_participant_ids_per_assignment(course):
    roster = ("student,platform,name,platform_id,assignment\n"
              "bob,moodle,Bob Doe,40001,mf\n"
              "bob,moodle,Bob Doe,40777,deep\n")
    summary = run(course, roster=roster)
    mf = read_csv(course / "out" / export.MOODLE_FILE.format(assignment="mf"))
    deep = read_csv(course / "out" / export.MOODLE_FILE.format(assignment="deep"))
    assert [r[0] for r in mf[1:]] == ["Participant 40001"]
    assert [r[0] for r in deep[1:]] == ["Participant 40777"]
    assert not (course / "out" / export.CANVAS_FILE).exists()
    assert export.CANVAS_FILE not in {p.name for p in summary.written}


def test_moodle_student_without_an_id_for_a_submitted_assignment_is_a_problem(course):
    roster = "student,platform,name,platform_id,assignment\nbob,moodle,Bob Doe,40001,mf\n"
    summary = run(course, roster=roster)
    assert any("Moodle: bob has no Moodle participant id for deep" in p for p in summary.problems)


# --------------------------------------------------------------------------- the roster


@pytest.mark.parametrize("text, words", [
    ("student,platform,name\nalice,canvas,A\n", "no column 'platform_id'"),
    ("student,platform,name,platform_id\nalice,sakai,A,1\n", "row 2: platform 'sakai' is not one of"),
    ("student,platform,name,platform_id\n,canvas,A,1\n", "row 2: the student id is empty"),
    ("student,platform,name,platform_id\nalice,canvas,A,smith\n", "row 2: the Canvas user id of alice is 'smith'"),
    ("student,platform,name,platform_id\nalice,canvas,A,1\nalice,canvas,A,2\n", "row 3: alice has Canvas user id 2"),
    ("student,platform,name,platform_id\nalice,canvas,A,1\nbob,canvas,B,1\n",
     "row 3: Canvas user id 1 is given to bob"),
])
def test_roster_errors_name_the_file_and_the_row(tmp_path, text, words):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(export.RosterError, match=words) as caught:
        export.read_roster(path)
    assert str(path) in str(caught.value)


def test_reads_the_roster_the_intake_writes(tmp_path):
    from grader.roster import RosterRow, write_roster

    path = tmp_path / "roster.csv"
    write_roster([RosterRow("smithjane", "canvas", "", "1001"), RosterRow("anon_ab12C", "canvas", "", ""),
                  RosterRow("123457", "moodle", "Ann Lee", "123457", "mf")], path)
    roster = export.Roster(export.read_roster(path))
    assert roster.entry("smithjane", "canvas").platform_id == "1001"
    assert roster.entry("anon_ab12C", "canvas").platform_id == ""  # anonymous grading: reported, not exported
    assert roster.entry("123457", "moodle", "mf").name == "Ann Lee"
    assert roster.entry("123457", "moodle", "deep") is None  # Moodle's participant ids hold for one assignment


def test_roster_reads_platforms_case_insensitively_and_skips_blank_lines(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("student,platform,name,platform_id\nalice,Canvas,A,7\n,,,\nbob,BLACKBOARD,B,bdoe\n",
                    encoding="utf-8")
    entries = export.read_roster(path)
    assert [(e.student, e.platform, e.platform_id, e.row) for e in entries] == [
        ("alice", "canvas", "7", 2), ("bob", "blackboard", "bdoe", 4)]


def test_bad_roster_still_writes_grades_csv(course):
    summary = run(course, roster="student,platform,name,platform_id\nalice,canvas,A,x1\n")
    assert [p.name for p in summary.written] == [export.GRADES_FILE]
    assert any("row 2" in p and "no platform file written" in p for p in summary.problems)


def test_no_roster_writes_only_grades_csv_and_removes_old_platform_files(course):
    run(course)
    assert (course / "out" / export.CANVAS_FILE).exists()
    (course / "roster.csv").unlink()
    summary = export.write_exports(course, None, settings(), None, course / "out", now=NOW)
    assert [p.name for p in summary.written] == [export.GRADES_FILE]
    assert sorted(p.name for p in (course / "out").iterdir()) == [export.GRADES_FILE]
    assert {r.assignment for r in summary.grades} == {"mf", "deep"}


def test_grading_one_assignment_keeps_the_other_assignments_worksheets(course):
    roster = ROSTER + "bob,moodle,Bob Doe,30818\n"
    run(course, roster=roster)
    deep = course / "out" / export.MOODLE_FILE.format(assignment="deep")
    before = deep.read_text(encoding="utf-8")
    summary = run(course, roster=roster, assignments=["mf"])
    assert deep.read_text(encoding="utf-8") == before
    assert read_csv(course / "out" / export.CANVAS_FILE)[0][5:] == ["mf"]
    assert {p.name for p in summary.written} == {export.GRADES_FILE, export.CANVAS_FILE,
                                                 export.MOODLE_FILE.format(assignment="mf")}


def test_blackboard_students_are_pointed_to_grades_csv(course):
    summary = run(course, roster=ROSTER + "bob,blackboard,Bob Doe,bdoe\n")
    assert any("Blackboard" in p and "bob" in p for p in summary.problems)


# --------------------------------------------------------------------------- the pipeline's entry point


def test_canvas_late_marker_without_a_time_is_said(course):
    summary = run(course, deadlines={"mf": DEADLINE, "deep": DEADLINE}, marked_late=[("bob", "deep")])
    row = next(r for r in summary.grades if (r.student, r.assignment) == ("bob", "deep"))
    assert row.penalty == 0.0 and "marked it late" in row.late_note


def test_submission_no_longer_in_submitted_is_a_problem(course):
    import shutil

    shutil.rmtree(course / "submitted" / "bob" / "deep")
    summary = run(course)
    assert any("bob's deep is in the gradebook but not in submitted/bob/deep/" in p for p in summary.problems)
    given = run(course, submitted=[(s, a) for s, a, _, _ in SUBMISSIONS])
    assert not any("not in submitted/" in p for p in given.problems)


def test_typo_in_an_export_setting_is_a_problem(course):
    config = Config()
    config.CanvasExportPlugin.assignment_id = {"mf": 1}
    summary = run(course, config)
    assert any("c.CanvasExportPlugin.assignment_id is not a setting" in p for p in summary.problems)


def test_summary_format_lists_penalties_and_problems(course):
    text = run(course).format()
    assert "Late penalties (1):" in text and "alice mf -0.5" in text
    assert "Problems to check before uploading" in text and "dave has no Canvas user id" in text


def test_unknown_assignment_is_an_error(course):
    with pytest.raises(ValueError, match="'rank' is not in the gradebook"):
        run(course, assignments=["mf", "rank"])


# --------------------------------------------------------------------------- `nbgrader export --exporter=...`


def test_nbgrader_export_runs_the_plugins(course, monkeypatch):
    from nbgrader.apps.exportapp import ExportApp

    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'recsys'\n"
        f"c.LatePolicy.deadlines = {{'mf': {DEADLINE!r}}}\n"
        "c.LatePolicy.penalty_per_day = 0.1\n"
        "c.CanvasExportPlugin.assignment_ids = {'mf': 12345}\n", encoding="utf-8")
    monkeypatch.chdir(course)
    for exporter, target in [("grader.export.CanvasExportPlugin", "canvas.csv"),
                             ("grader.export.MoodleExportPlugin", "moodle"),
                             ("grader.export.GradesCsvExportPlugin", "grades.csv")]:
        ExportApp.clear_instance()
        app = ExportApp()
        app.initialize([f"--exporter={exporter}", f"--to={target}"])
        app.start()
    ExportApp.clear_instance()
    canvas = read_csv(course / "canvas.csv")
    assert canvas[0][5:] == ["deep", "mf (12345)"] and ["Smith, Alice", "5012", "", "", "", "", "4.5"] in canvas
    assert read_csv(course / "moodle" / "moodle_grading_worksheet_mf.csv")[1][:4] == [
        "Participant 30817", "Erin Moss", "incomplete", ""]
    table = records(course / "grades.csv")
    assert table["alice", "mf"]["score"] == "4.5" and table["carol", "mf"]["score"] == ""
