"""`reports/answers.md`: one entry per question id, in the assignment's order, answered from the runs.

Each report section contributes the answers of its study (`Section.answers`, id -> function);
the implementation rows no study owns come from `implementations.ANSWERS`; a "same as" row
with no answer of its own reuses the one it repeats; the presentation (GEN) rows are
answered last, from facts about the finished sheet and report. Every entry is checked:

- an id of `QUESTIONS` that nothing answers (shown as MISSING);
- an answer outside its question's sentence limit (`count_sentences`);
- a link to no heading of report.md, or no link at all;
- an entry with no number, no code and no figure under its linked heading;
- a question that asks for code, answered without any;
- two answers for one id, or an answer for an id the assignment does not have.

With `REQUIRE_EVERY_ID` each of these fails the report stage in one line naming the ids;
without it they are flagged in the sheet and on stderr, so studies still being answered do
not block everyone's report.
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.answers.implementations import ANSWERS as IMPLEMENTATION_ANSWERS
from pipeline.answers.questions import BY_ID, QUESTIONS, Question
from pipeline.answers.sentences import count_sentences
from pipeline.core.errors import PipelineError
from pipeline.reporting import REPORT, Answer, AnswerFunction, Heading, ReportContext, Section, markdown_headings

REQUIRE_EVERY_ID: bool | None = None  # None: params.yaml's `answer_sheet` decides (strict: every problem below fails the stage)


def strict() -> bool:
    if REQUIRE_EVERY_ID is not None:
        return REQUIRE_EVERY_ID
    from pipeline.core.params import load_shared

    return load_shared().answer_sheet == "strict"


ANSWER_SHEET = Path("reports/answers.md")
SHEET_SOURCE = "the answer sheet"  # who answers the implementation and presentation rows
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
MISSING = "MISSING: no report section answers this id"


@dataclass
class Entry:
    question: Question
    answer: Answer | None = None
    section: str | None = None  # key of the section that answered; None: the sheet itself
    repeats: str | None = None  # the id whose answer a "same as" row reuses
    heading: Heading | None = None  # where its link lands in report.md
    figures: int = 0  # images under that heading
    problems: list[str] = field(default_factory=list)

    @property
    def sentences(self) -> int:
        return count_sentences(self.answer.text) if self.answer else 0

    @property
    def source(self) -> str:
        """Who answered: "section `transformer`", "same as A25-2.1.1 (the answer sheet)"."""
        own = f"section `{self.section}`" if self.section else SHEET_SOURCE
        return f"same as {self.repeats} ({own})" if self.repeats else own


@dataclass(frozen=True)
class Rendered:
    """The report body as the sections wrote it, with where each heading and figure is."""

    lines: list[str]  # split into single lines
    headings: list[Heading]
    owner: dict[int, str]  # heading line -> key of the section that wrote it

    @classmethod
    def of(cls, parts: list[tuple[str, list[str]]]) -> Rendered:
        lines, owner_of_line = [], []
        for key, section_lines in parts:
            split = "\n".join(section_lines).split("\n") if section_lines else []
            lines += split
            owner_of_line += [key] * len(split)
        headings = markdown_headings(lines)
        return cls(lines, headings, {h.line: owner_of_line[h.line] for h in headings})

    def find(self, title: str, section: str | None) -> Heading | None:
        """The heading titled `title`; among repeats, the first the answering section wrote."""
        matches = [h for h in self.headings if h.title == title]
        own = [h for h in matches if self.owner[h.line] == section]
        return (own or matches or [None])[0]

    def figures_under(self, heading: Heading) -> int:
        """Images between `heading` and the next heading of its level or above."""
        later = [h.line for h in self.headings if h.line > heading.line and h.level <= heading.level]
        end = later[0] if later else len(self.lines)
        return sum(len(IMAGE.findall(line)) for line in self.lines[heading.line : end])

    def images(self) -> list[str]:
        return [target for line in self.lines for target in IMAGE.findall(line)]


def answer_functions(sections: list[Section]) -> tuple[dict[str, tuple[str | None, AnswerFunction]], list[str]]:
    """id -> (key of the section that answers it, None for the sheet's own rows; function); plus conflicts."""
    known = {question.id for question in QUESTIONS}
    found: dict[str, tuple[str | None, AnswerFunction]] = {}
    problems = []

    def name(key: str | None) -> str:
        return f"section `{key}`" if key else SHEET_SOURCE

    for key, answers in [(s.key, s.answers) for s in sections] + [(None, IMPLEMENTATION_ANSWERS)]:
        for question_id, function in answers.items():
            if question_id not in known:
                problems.append(f"{question_id}: answered by {name(key)}, but the assignment has no such id")
            elif question_id in found:
                problems.append(f"{question_id}: answered by both {name(found[question_id][0])} and {name(key)}")
            else:
                found[question_id] = (key, function)
    return found, problems


def answer_questions(ctx: ReportContext, sections: list[Section], rendered: Rendered) -> tuple[list[Entry], list[str]]:
    """Every non-GEN question answered and checked, in order; plus the problems no single entry owns."""
    functions, problems = answer_functions(sections)
    computed: dict[str, Answer | str] = {}  # id -> its answer, or why its function failed

    def answering(question: Question) -> str | None:
        """The id whose function answers `question`: its own, or the one its "same as" chain reaches."""
        while question.id not in functions and question.same_as:
            question = BY_ID[question.same_as]
        return question.id if question.id in functions else None

    entries = []
    for question in QUESTIONS:
        if question.is_presentation:
            continue
        entry = Entry(question)
        entries.append(entry)
        answerer = answering(question)
        if answerer is None:
            entry.problems.append(MISSING)
            continue
        entry.section, function = functions[answerer]
        entry.repeats = answerer if answerer != question.id else None
        if answerer not in computed:
            try:
                computed[answerer] = function(ctx)
            except Exception as error:  # strict mode re-raises; otherwise the entry shows it
                if strict():
                    raise
                computed[answerer] = f"its answer function failed: {type(error).__name__}: {error}"
        if isinstance(computed[answerer], str):
            entry.problems.append(computed[answerer])
        else:
            entry.answer = computed[answerer]
            check(entry, rendered)
    return entries, problems


def check(entry: Entry, rendered: Rendered) -> None:
    """Fill in where the entry's link lands and what is wrong with it."""
    question, answer = entry.question, entry.answer
    if not question.within_limit(entry.sentences):
        entry.problems.append(f"{entry.sentences} sentences, limit {question.limit()}")
    if "\n\n" in answer.text.strip():
        entry.problems.append("the answer text has an empty line (write one paragraph; examples go in numbers)")
    if answer.link:
        entry.heading = rendered.find(answer.link, entry.section)
        if entry.heading is None:
            entry.problems.append(f'links to "{answer.link}", which is not a heading of report.md')
        else:
            entry.figures = rendered.figures_under(entry.heading)
    elif not question.is_presentation:
        entry.problems.append("links to no heading of report.md")
    if not (answer.numbers or answer.code or entry.figures):
        entry.problems.append("has no number, code or figure behind it")
    if question.asks_for_code and not answer.code:
        entry.problems.append("the question asks for code, and the answer shows none")
    for obj in answer.code:
        if not has_source(obj):
            entry.problems.append(f"{obj!r} has no Python source to show")


# ---------------------------------------------------------------- presentation (GEN) rows


@dataclass(frozen=True)
class Facts:
    """What the GEN rows state, measured on the finished sheet and report."""

    questions: int  # ids with an entry of their own (GEN rows excluded)
    answered: int
    limited: int  # answers whose question sets a sentence limit
    within: int
    flagged: int  # entries with a problem shown in place
    figures: int  # images report.md shows
    figures_present: int
    code_entries: int
    code_unasked: int  # entries showing code for a question that asks for none
    runs: int  # MLflow runs read, matched to the current outputs by hash


def measure(ctx: ReportContext, entries: list[Entry], rendered: Rendered, figure_exists: Callable[[str], bool]) -> Facts:
    answered = [e for e in entries if e.answer]
    limited = [e for e in answered if e.question.limit() != "none stated"]
    images = rendered.images()
    return Facts(
        questions=len(entries),
        answered=len(answered),
        limited=len(limited),
        within=sum(e.question.within_limit(e.sentences) for e in limited),
        flagged=sum(bool(e.problems) for e in entries),
        figures=len(images),
        figures_present=sum(figure_exists(target) for target in images),
        code_entries=sum(bool(e.answer.code) for e in answered),
        code_unasked=sum(bool(e.answer.code) and not e.question.asks_for_code for e in answered),
        runs=len({run.info.run_id for run in ctx.selected}),
    )


def neatness(facts: Facts) -> Answer:
    """A25-GEN: readable, outputs shown, sentence limits kept."""
    return Answer(
        text=(
            f"{facts.answered} of the {facts.questions} questions (GEN rows aside) are answered here, in the "
            "assignment's order, each tied to the report heading, the run numbers or the source code it rests on; "
            f"{facts.within} of the {facts.limited} answers whose question sets a sentence limit keep within it, "
            "counted by `pipeline.answers.sentences.count_sentences` (abbreviations, decimals and code spans do not "
            f"end a sentence). The report shows {facts.figures} figures, {facts.figures_present} of them present in "
            f"`reports/figures`, and the {facts.code_entries} entries with code print the implementing source as it "
            "stands at report time, with file and line."
        ),
        numbers=(
            ("questions with an answer (GEN rows excluded)", f"{facts.answered} of {facts.questions}"),
            ("answers within their sentence limit", f"{facts.within} of {facts.limited}"),
            ("figures in report.md present on disk", f"{facts.figures_present} of {facts.figures}"),
            ("entries showing source code", str(facts.code_entries)),
        ),
    )


def typed_and_flagged(facts: Facts) -> Answer:
    """A22-GEN (and A21-GEN): typed, strict limits, say so when something looks wrong."""
    consequence = "fails the report stage" if strict() else "is flagged in place and on stderr"
    return Answer(
        text=(
            f"The write-up is typed Markdown generated from the runs: reports/report.md and this sheet of "
            f"{facts.questions} entries. {facts.within} of the {facts.limited} answers whose question sets a sentence "
            f"limit keep within it. An answer that breaks its limit, lacks evidence, links nowhere or is missing "
            f"{consequence}, and {facts.flagged} entries are flagged now."
        ),
        numbers=(
            ("answers within their sentence limit", f"{facts.within} of {facts.limited}"),
            ("entries flagged with a problem", str(facts.flagged)),
        ),
    )


def only_what_is_asked(facts: Facts) -> Answer:
    """HW3-GEN: nothing beyond the question, and outputs reproduced from scratch."""
    return Answer(
        text=(
            f"Code is printed only where a question asks for it: {facts.code_entries} entries show code, "
            f"{facts.code_unasked} of them for a question that asks for none. `dvc repro` rebuilds every output "
            f"from params.yaml (this sheet is the `report` stage's output), and the {facts.runs} MLflow runs the report and these answers read are the "
            "ones whose logged outputs hash equals that of the current DVC outputs."
        ),
        numbers=(
            ("entries showing code for a question that asks for none", f"{facts.code_unasked} of {facts.code_entries}"),
            ("MLflow runs read, matched to the current outputs by hash", str(facts.runs)),
        ),
    )


PRESENTATION: dict[str, Callable[[Facts], Answer]] = {"A25-GEN": neatness, "A22-GEN": typed_and_flagged, "HW3-GEN": only_what_is_asked}


def answer_presentation(facts: Facts, rendered: Rendered) -> dict[str, Entry]:
    """The GEN rows, each from its own function or the one its "same as" names."""
    entries = {}
    for question in QUESTIONS:
        if not question.is_presentation:
            continue
        own = question.id if question.id in PRESENTATION else question.same_as
        entry = Entry(question, PRESENTATION[own](facts), repeats=own if own != question.id else None)
        check(entry, rendered)
        entries[question.id] = entry
    return entries


# ---------------------------------------------------------------- the sheet


def answer_sheet(
    ctx: ReportContext, sections: list[Section], parts: list[tuple[str, list[str]]], figure_exists: Callable[[str], bool]
) -> list[str]:
    """The lines of reports/answers.md. `parts` are (section key, its rendered lines) in report order;
    `figure_exists` tells whether an image path of report.md (relative to it) was written."""
    rendered = Rendered.of(parts)
    entries, problems = answer_questions(ctx, sections, rendered)
    presentation = answer_presentation(measure(ctx, entries, rendered, figure_exists), rendered)
    by_id = {entry.question.id: entry for entry in entries} | presentation
    ordered = [by_id[question.id] for question in QUESTIONS]
    problems += [f"{entry.question.id}: {problem}" for entry in ordered for problem in entry.problems]
    report_problems(problems)
    return render(ordered, ctx.root)


def report_problems(problems: list[str]) -> None:
    if not problems:
        return
    if strict():
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise PipelineError(f"{ANSWER_SHEET}: {len(problems)} problem(s): {shown}")
    for problem in problems:
        print(f"warning: {ANSWER_SHEET}: {problem}", file=sys.stderr)


HEADER = [
    "# Answers, question by question",
    "",
    "One entry per question id of the four assignment versions (2025 handout, 2022 and 2021 versions, homework 3),",
    "in the assignment's order. Each answer is generated from the MLflow runs behind the current outputs, keeps",
    "within its question's sentence limit, and links to the part of [the report](report.md) it rests on; code",
    "entries print the implementing source as it is now. Generated by `dvc repro` (stage `report`); do not edit by hand.",
    "",
]


def render(entries: list[Entry], root: Path) -> list[str]:
    lines, version = list(HEADER), None
    for entry in entries:
        question = entry.question
        if question.version != version:
            version = question.version
            lines += [f"## {version}", ""]
        lines += render_entry(entry, root)
    return lines


def render_entry(entry: Entry, root: Path) -> list[str]:
    question, answer = entry.question, entry.answer
    limit = question.limit()
    if answer and limit != "none stated":
        limit += f" (this answer: {entry.sentences})"
    meta = [f"asks for: {question.form}", f"sentence limit: {limit}"]
    if answer:
        meta.append(f"answered by: {entry.source}")
    if entry.heading:
        meta.append(f"rests on: [{entry.heading.title}]({REPORT.name}#{entry.heading.anchor})")
    elif answer and question.is_presentation:
        meta.append(f"rests on: [the whole report]({REPORT.name})")
    lines = [f"### {question.id}: {inline(question.title)}", "", "*" + " · ".join(meta) + "*", ""]
    problems = [problem for problem in entry.problems if problem != MISSING]
    lines += [f"**Problem:** {inline(problem)}" + "  " for problem in problems]  # two spaces: one line each
    if problems:
        lines.append("")
    if answer is None:
        return [*lines, f"**Answer:** {MISSING if MISSING in entry.problems else 'MISSING (see the problem above)'}", ""]
    lines += [f"**Answer:** {inline(answer.text.strip())}", ""]
    if answer.numbers:
        lines += [f"- {inline(label)}: **{inline(str(value))}**" for label, value in answer.numbers] + [""]
    for obj in filter(has_source, answer.code):
        lines += render_code(obj, root)
    return lines


def inline(text: str) -> str:
    """`text` with tag-like `<SOS>` escaped outside code spans, so Markdown shows it instead of
    swallowing it as HTML."""
    pieces = re.split(r"(`+[^`]*`+)", text)
    return "".join(piece if piece.startswith("`") else re.sub(r"<(?=[A-Za-z/!])", "&lt;", piece) for piece in pieces)


def has_source(obj) -> bool:
    try:
        inspect.getsourcelines(inspect.unwrap(obj))
    except (TypeError, OSError):
        return False
    return True


def render_code(obj, root: Path) -> list[str]:
    """`path:line` (`qualified name`), then the object's source as it is now."""
    obj = inspect.unwrap(obj)  # a decorated function's file is its own, not the decorator's
    source, first = inspect.getsourcelines(obj)
    path = Path(inspect.getsourcefile(obj)).resolve()
    shown = path.relative_to(root.resolve()) if path.is_relative_to(root.resolve()) else path
    return [f"`{shown}:{first}` (`{obj.__qualname__}`)", "", "```python", textwrap.dedent("".join(source)).rstrip(), "```", ""]
