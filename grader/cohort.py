"""What the class got wrong: a one-page summary of a grading run, for the instructor (``cohort_summary.md``).

:func:`write_cohort_summary` turns the grading report's rows
(:class:`grader.report.TaskScore`) into markdown that answers, in a minute,
"what should I teach again?":

1. *Re-teach first*: the tasks lost by the largest share of the class, each
   with its most frequent cause.
2. Per assignment: how many students handed in, the distribution of their
   totals (a text histogram), and per task how many earned it and how many
   lost it.
3. Per task that was lost, the failure messages grouped by cause, most
   frequent first, with counts and up to three example students. Messages
   name sizes and values that differ from student to student ("expected
   0.8391 on a 5x7 example ..., got 1.204"), so they are grouped with the
   task's title, numbers, shapes and quoted values masked
   (:func:`failure_cause`): what remains is the check's sentence and its
   likely cause. Each group is shown by its most frequent actual message
   (:attr:`Cause.text`, readable, numbers included), with how many students
   got exactly that wording and how many the same with other values; the
   masked key (:attr:`Cause.key`) is only for grouping.
4. What the instructor must review: files that could not be graded, and the
   flags (tampering, reference use, stopped kernels, ...) by kind, with every
   student named.

Scores are the tasks' points before any late penalty (that is a matter of
the calendar, not of understanding; ``grades.csv`` has it).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.report import FLAG_SEPARATOR, TaskScore

GRADED, NOT_GRADED, NOT_SUBMITTED = "graded", "not graded", "not submitted"

#: How a task's title opens its message: "Task 3 (calc_loss): ..." or "Training: ..." (grader.scoring.score).
_TITLE = re.compile(r"^\s*(?P<title>Task\s+[\w.-]+(?:\s*\([^)]*\))?|[A-Z][\w-]*(?:\s[\w-]+){0,3}(?:\s*\([^)]*\))?)"
                    r":\s+(?=\S)")
_BOOK = re.compile(r"\s*See the book:\s*(?P<book>.*)$", re.S)
_QUOTED = re.compile(r"'[^'\n]{0,80}'|\"[^\"\n]{0,80}\"")
_DIMENSIONS = re.compile(r"(?<![\w.])\d+(?:\s*[x×]\s*\d+)+(?![\w])")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")
_DTYPE = re.compile(r"(?<![\w.])(?:torch\.|np\.|numpy\.)?(?:b?float|u?int|complex)\d+(?![\w])")
_SEQUENCE = re.compile(r"([(\[])\s*…(?:\s*,\s*…)*\s*,?\s*([)\]])")
MASK = "…"


def _strip_title_and_book(message: str) -> tuple[str, str]:
    """A message without its task title (``"Task 3 (calc_loss): "``) and book reference; and the book section."""
    text = message.strip()
    book = ""
    found = _BOOK.search(text)
    if found:
        book = found.group("book").strip().rstrip(".")
        text = text[:found.start()].rstrip()
    title = _TITLE.match(text)
    if title:
        text = text[title.end():]
    return " ".join(text.split()), book


def failure_cause(message: str) -> tuple[str, str]:
    """The cause of a failure message, to group students by: ``(masked sentence, book section)``.

    The task's title (``"Task 3 (calc_loss): "``) and the book reference
    (``" See the book: ..."``) are taken off; quoted values, numbers
    (``0.8391``, ``-3``, ``1e-05``), dimensions (``5x7``), dtypes
    (``float32``, ``torch.int64``: which one a probe used) and tuples or
    lists of numbers (``(3, 943)``) become ``…``. Other identifiers with
    digits (``task3``, ``fc1``) are kept.

    >>> failure_cause("Task 3 (calc_loss): expected 0.8391 on a 5x7 example, got 1.2. Divide by exist.sum().")
    ('expected … on a … example, got …. Divide by exist.sum().', '')
    """
    text, book = _strip_title_and_book(message)
    text = _QUOTED.sub(f"'{MASK}'", text)
    text = _DTYPE.sub(MASK, text)
    text = _DIMENSIONS.sub(MASK, text)
    text = _NUMBER.sub(MASK, text)
    text = _SEQUENCE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    return " ".join(text.split()), book


def _title(message: str) -> str:
    found = _TITLE.match(message or "")
    return found.group("title") if found else ""


def _flag_kind(flag: str) -> str:
    """``"stopped-kernel (task3-calc-loss)"`` -> ``"stopped-kernel"``: the text before ``:`` without ``(...)``."""
    head = flag.split(":", 1)[0]
    return re.sub(r"\s*\([^)]*\)", "", head).strip() or flag.strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _short(task: str) -> str:
    return task.removesuffix("-test")


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _cut(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + MASK


@dataclass
class Cause:
    """Students who lost a task for the same reason.

    Attributes:
        key: The masked sentence the students' messages share (:func:`failure_cause`): how they are grouped.
        book: The book section the messages name.
        students: The students, in report order.
        wordings: Each actual message (task title and book reference taken off) -> the students who got it.
    """

    key: str
    book: str
    students: list[str] = field(default_factory=list)
    wordings: dict[str, list[str]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The group's most frequent actual message (the first seen among equals): readable, numbers included."""
        if not self.wordings:
            return self.key
        return max(self.wordings.items(), key=lambda item: len(item[1]))[0]

    @property
    def exact(self) -> int:
        """How many students got :attr:`text` word for word (the others got it with other values)."""
        return len(self.wordings.get(self.text, ()))

    def examples(self, count: int) -> list[str]:
        """Up to ``count`` students, those with the shown wording first."""
        shown = sorted(self.wordings.get(self.text, ()))
        return (shown + sorted(s for s in self.students if s not in shown))[:count]


@dataclass
class TaskSummary:
    """One task of one assignment, over the students whose file was graded."""

    assignment: str
    task: str
    title: str
    max_score: float
    earned: int = 0
    lost: int = 0
    causes: list[Cause] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The task's title in its messages (``Task 3 (calc_loss)``), else its cell's grade id."""
        return self.title or _short(self.task)

    @property
    def share_lost(self) -> float:
        return self.lost / (self.earned + self.lost) if self.earned + self.lost else 0.0


def summarize_tasks(rows: Sequence[TaskScore]) -> list[TaskSummary]:
    """Per assignment and task (in report order): earned, lost, and the causes, most frequent first."""
    tasks: dict[tuple[str, str], TaskSummary] = {}
    causes: dict[tuple[str, str], dict[str, Cause]] = {}
    for row in rows:
        key = (row.assignment, row.task)
        summary = tasks.setdefault(key, TaskSummary(row.assignment, row.task, "", row.max_score))
        summary.title = summary.title or _title(row.message)
        if row.status != GRADED:
            continue
        if row.score >= row.max_score:
            summary.earned += 1
            continue
        summary.lost += 1
        text, book = failure_cause(row.message) if row.message else ("(no message recorded)", "")
        wording = _strip_title_and_book(row.message)[0] if row.message else text
        cause = causes.setdefault(key, {}).setdefault(text, Cause(text, book))
        cause.students.append(row.student)
        cause.wordings.setdefault(wording, []).append(row.student)
        cause.book = cause.book or book
    for key, summary in tasks.items():
        order = list(causes.get(key, {}).values())
        summary.causes = sorted(order, key=lambda c: -len(c.students))  # stable: first seen first among equals
    return list(tasks.values())


def _histogram(totals: Sequence[float], maximum: float, width: int = 30) -> list[str]:
    """One line per score (or per tenth of the maximum when scores are many or fractional)."""
    if not totals:
        return []
    top = max(maximum, max(totals))
    if top <= 20 and all(float(t).is_integer() for t in totals) and float(top).is_integer():
        labels = [_points(v) for v in range(int(top) + 1)]
        counts = Counter(int(t) for t in totals)
        values = [counts.get(v, 0) for v in range(int(top) + 1)]
    else:
        step = top / 10 if top > 0 else 1.0
        edges = [i * step for i in range(11)]
        labels = [f"{_points(edges[i])}-{_points(edges[i + 1])}" for i in range(10)]
        values = [0] * 10
        for t in totals:
            values[min(9, int(t // step))] += 1
    most = max(values)
    pad = max(len(label) for label in labels)
    lines = [f"{'score'.rjust(pad)}  students"]
    for label, count in zip(labels, values):
        bar = "█" * max(1, round(count / most * width)) if count else ""
        lines.append(f"{label.rjust(pad)}  {bar} {count}".rstrip())
    return lines


def format_cohort_summary(rows: Sequence[TaskScore], *, examples: int = 3, top: int = 3) -> str:
    """The markdown of :func:`write_cohort_summary`."""
    lines = ["# What the class got wrong", ""]
    if not rows:
        return "\n".join(lines + ["No submissions were graded.", ""])
    students = sorted({r.student for r in rows})
    assignments = list(dict.fromkeys(r.assignment for r in rows))
    lines += [f"From the grading report: {len(students)} student(s), {len(assignments)} assignment(s). Points are "
              "before late penalties; only files that could be graded count in the tables.", ""]
    tasks = summarize_tasks(rows)
    worst = sorted((t for t in tasks if t.lost), key=lambda t: (-t.share_lost, -t.lost))[:top]
    if worst:
        lines += ["## Re-teach first", ""]
        for number, task in enumerate(worst, start=1):
            line = (f"{number}. **{task.assignment}: {_escape(task.name)}**: lost by {task.lost} of "
                    f"{task.lost + task.earned} ({task.share_lost:.0%}).")
            if task.causes:
                cause = task.causes[0]
                exact = f", {cause.exact} word for word" if cause.exact < len(cause.students) else ""
                line += f" Most often ({len(cause.students)}{exact}): {_escape(_cut(cause.text))}"
            lines.append(line)
        lines.append("")
    for assignment in assignments:
        lines += _assignment_section(assignment, [r for r in rows if r.assignment == assignment],
                                     [t for t in tasks if t.assignment == assignment], examples)
    return "\n".join(lines).rstrip() + "\n"


def _assignment_section(assignment: str, rows: Sequence[TaskScore], tasks: Sequence[TaskSummary],
                        examples: int) -> list[str]:
    status: dict[str, str] = {}
    for row in rows:  # a student's status: not graded or not submitted on any task wins over graded
        if status.get(row.student, GRADED) == GRADED:
            status[row.student] = row.status
    graded = sorted(s for s, v in status.items() if v == GRADED)
    failed = sorted(s for s, v in status.items() if v == NOT_GRADED)
    absent = sorted(s for s, v in status.items() if v == NOT_SUBMITTED)
    maximum = sum(t.max_score for t in tasks)
    totals = {s: 0.0 for s in graded}
    for row in rows:
        if row.student in totals:
            totals[row.student] += row.score
    lines = [f"## Assignment {assignment}", "",
             f"{len(status)} student(s): {len(graded)} graded, {len(failed)} could not be graded, "
             f"{len(absent)} handed nothing in.", ""]
    if totals:
        values = list(totals.values())
        lines += [f"Total points (of {_points(maximum)}): mean {_points(statistics.fmean(values))}, median "
                  f"{_points(statistics.median(values))}, lowest {_points(min(values))}, highest "
                  f"{_points(max(values))}.", "", "```text", *_histogram(values, maximum), "```", ""]
        lines += ["| Task | Cell | Points | Earned | Lost | Lost by |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {_escape(t.name)} | `{t.task}` | {_points(t.max_score)} | {t.earned} | {t.lost} | "
                  f"{t.share_lost:.0%} |" for t in tasks]
        lines.append("")
    for task in sorted((t for t in tasks if t.lost), key=lambda t: (-t.share_lost, -t.lost)):
        lines += [f"### {assignment}: {_escape(task.name)}: lost by {task.lost} of {task.lost + task.earned}", ""]
        for cause in task.causes:
            shown = ", ".join(cause.examples(examples))
            more = len(cause.students) - examples
            shown += f" and {more} more" if more > 0 else ""
            others = len(cause.students) - cause.exact
            variants = (f"{cause.exact} as written, {others} the same with other values: " if others else "")
            lines.append(f"- **{len(cause.students)}×** {_escape(cause.text)} ({variants}e.g. {_escape(shown)})")
            if cause.book:
                lines.append(f"  Book: {_escape(cause.book)}")
        lines.append("")
    if failed:
        lines += ["### Could not be graded (0 points, not counted above)", ""]
        for student in failed:
            reason = next((r.message for r in rows if r.student == student and r.message), "no reason recorded")
            lines.append(f"- {_escape(student)}: {_escape(_cut(reason, 300))}")
        lines.append("")
    flags: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        for flag in filter(None, (f.strip() for f in row.flags.split(FLAG_SEPARATOR))):
            found = flags.setdefault(_flag_kind(flag), {}).setdefault(row.student, [])
            if flag not in found:
                found.append(flag)
    if flags:
        lines += ["### Flags to review", ""]
        for kind, by_student in sorted(flags.items(), key=lambda item: (-len(item[1]), item[0])):
            lines.append(f"- **{_escape(kind)}** ({len(by_student)} student(s)):")
            for student in sorted(by_student):
                lines.append(f"  - {_escape(student)}: {_escape(' / '.join(by_student[student]))}")
        lines.append("")
    return lines


def write_cohort_summary(rows: Sequence[TaskScore], path: str | Path, *, examples: int = 3, top: int = 3) -> Path:
    """Write the class's summary (markdown) to ``path``, next to ``grading_report.csv``.

    Args:
        rows: The grading report's rows (one per student, assignment and task).
        path: Where to write, e.g. ``.grading/cohort_summary.md``.
        examples: How many students each cause names before "and N more".
        top: How many tasks "Re-teach first" lists.
    """
    path = Path(path)
    path.write_text(format_cohort_summary(rows, examples=examples, top=top), encoding="utf-8")
    return path
