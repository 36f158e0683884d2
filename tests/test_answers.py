"""The answer sheet: the question list, the sentence counter, the checks on synthetic answers,
the implementation rows, and the committed reports/answers.md against the question list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.answers import sheet
from pipeline.answers.implementations import ANSWERS as IMPLEMENTATION_ANSWERS
from pipeline.answers.questions import BY_ID, QUESTIONS, parse_questions
from pipeline.answers.sentences import count_sentences
from pipeline.core.errors import PipelineError
from pipeline.report import table_of_contents
from pipeline.reporting import Answer, ReportContext, Section, markdown_headings

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("", 0),
        ("One. Two! Three?", 3),
        ("No full stop at the end", 1),
        ("The loss is 0.43 here. It was 1.2e-3 before.", 2),
        ("Adam, e.g. with warm-up, i.e. a schedule, helps. Fig. 2 shows it vs. SGD.", 2),
        ("The call `torch.bmm. Not. A. Sentence.` does it. Next", 2),
        ('(See the table above.) Then **0.43**. And "done." Last', 4),
        ("Lists, etc. are one sentence, counted as two.", 2),  # "etc." may end a sentence: the count errs high
        ("Trailing dots... count once", 2),
    ],
)
def test_count_sentences(text, sentences):
    assert count_sentences(text) == sentences


# ---------------------------------------------------------------- the question list


def test_question_ids_are_unique_and_in_the_assignment_order():
    ids = [question.id for question in QUESTIONS]
    assert len(ids) == len(set(ids)) == 94  # 29 + 27 + 22 + 16 rows in the four tables
    prefixes = [i.split("-")[0] for i in ids]
    assert prefixes == sorted(prefixes, key=["A25", "A22", "A21", "HW3"].index)  # versions in blocks, in order
    assert [ids[0], ids[-1]] == ["A25-1.1.1", "HW3-GEN"]
    assert [i for i in ids if i.endswith("-GEN")] == ["A25-GEN", "A22-GEN", "A21-GEN", "HW3-GEN"]


def test_same_as_names_an_earlier_question():
    position = {question.id: n for n, question in enumerate(QUESTIONS)}
    for question in QUESTIONS:
        if question.same_as:
            assert position[question.same_as] < position[question.id], question.id


@pytest.mark.parametrize(
    ("question_id", "low", "high"),
    [
        ("A25-2.1.3", 2, 4),  # "1-2 + 1-2 sentences"
        ("A25-2.1.4b", None, 6),  # "at most 6 sentences"
        ("A25-3.4", 2, 3),  # "2-3 sentences (at most 3 in total)"
        ("A25-4.2b", 1, 1),  # "1 sentence"
        ("A22-P1.3", None, 1),  # "written in at most 1 sentence"
        ("A22-P2.2.5", None, 6),  # "at most 3 sentences per decoder, 6 in total"
        ("A22-P2.2.6b", None, None),  # "No sentence limit is stated in this version"
        ("A21-P1.1b", None, 2),  # "fewer than 3 sentences"
        ("HW3-2.3.1", 5, None),  # "at least 5 sentences"
        ("A25-2.1.1", None, None),  # code
    ],
)
def test_sentence_limits_follow_the_deliverables(question_id, low, high):
    question = BY_ID[question_id]
    assert (question.min_sentences, question.max_sentences) == (low, high)


def test_a_question_table_reads_back_in_the_words_the_sheet_prints():
    table = """
    # a version
    X-1 | One | written | at most 3
    X-2 | Two | code | same as X-1
    X-3 | Three | written | 2 to 4 | same as X-1
    X-4 | Four | written | exactly 1
    X-5 | Five | written | at least 5
    X-6 | Six | plot
    """
    questions = parse_questions("\n".join(line.strip() for line in table.splitlines()))
    assert [(q.id, q.min_sentences, q.max_sentences, q.same_as) for q in questions] == [
        ("X-1", None, 3, None),
        ("X-2", None, None, "X-1"),
        ("X-3", 2, 4, "X-1"),
        ("X-4", 1, 1, None),
        ("X-5", 5, None, None),
        ("X-6", None, None, None),
    ]
    assert [q.limit() for q in questions] == ["at most 3", "none stated", "2 to 4", "exactly 1", "at least 5", "none stated"]
    with pytest.raises(ValueError, match="X-7"):
        parse_questions("X-7 | Seven | written | about 3")


# ---------------------------------------------------------------- the sheet on synthetic answers

BODY = [
    "## Alpha study",
    "",
    "![curve](figures/alpha.png)",
    "### Results",
    "| a | b |",
    "## Beta study",
    "### Results",  # a repeated title: the second gets GitHub's -1 anchor
    "no figure here",
]


def shown(x: int) -> int:
    """An implementing function for the code rows of the synthetic sheet."""
    return x


def valid_answer(question_id: str) -> Answer:
    question = BY_ID[question_id]
    sentences = max(question.min_sentences or 1, 1)
    return Answer(
        text=" ".join(f"Sentence {n} of {question_id}." for n in range(sentences)),
        numbers=(("a run's value", "0.5"),),
        code=(shown,) if question.asks_for_code else (),
        link="Results",
    )


def every_answer() -> dict:
    """A valid answer for every id with no presentation row and no "same as": the sheet must fill the rest."""
    return {q.id: (lambda ctx, i=q.id: valid_answer(i)) for q in QUESTIONS if not q.is_presentation and not q.same_as}


def make_sheet(tmp_path, alpha: dict, beta: dict | None = None, figure_exists=lambda image: True) -> list[str]:
    (tmp_path / "dvc.yaml").write_text("stages:\n  report:\n    cmd: python -m pipeline.report\n")
    sections = [Section("alpha", lambda ctx: BODY[:5], alpha), Section("beta", lambda ctx: BODY[5:], beta or {})]
    parts = [("alpha", BODY[:5]), ("beta", BODY[5:])]
    return sheet.answer_sheet(ReportContext(tmp_path, out=None), sections, parts, figure_exists)


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setattr(sheet, "REQUIRE_EVERY_ID", True)
    monkeypatch.setattr(sheet, "IMPLEMENTATION_ANSWERS", {})  # every row comes from the synthetic sections


def entry_of(lines: list[str], question_id: str) -> list[str]:
    start = lines.index(next(line for line in lines if line.startswith(f"### {question_id}: ")))
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ") or lines[n].startswith("### ")), len(lines))
    return lines[start:end]


def test_a_complete_sheet_lists_every_id_in_order_and_fills_repeats_and_presentation_rows(tmp_path, strict):
    lines = make_sheet(tmp_path, every_answer())
    ids = [line[4:].split(":")[0] for line in lines if line.startswith("### ")]
    assert ids == [question.id for question in QUESTIONS]
    repeat = "\n".join(entry_of(lines, "A22-P2.2.1"))
    assert "same as A25-2.1.1 (section `alpha`)" in repeat and "Sentence 0 of A25-2.1.1." in repeat
    presentation = "\n".join(entry_of(lines, "A25-GEN"))
    answered = sum(not q.is_presentation for q in QUESTIONS)
    assert f"{answered} of the {answered} questions" in presentation
    assert "1 of them present" in presentation  # BODY shows one figure


def test_a_repeat_reuses_one_call_of_the_answer_it_repeats(tmp_path, strict):
    calls = []
    answers = every_answer()
    answers["A25-2.1.1"] = lambda ctx: calls.append(1) or valid_answer("A25-2.1.1")
    make_sheet(tmp_path, answers)
    assert len(calls) == 1  # A25-2.1.1, A22-P2.2.1 and A21-P3.1 share it


def test_a_link_lands_on_the_answering_sections_heading_with_the_contents_anchor(tmp_path, strict):
    answers = every_answer()
    beta = {"A25-2.3.3": answers.pop("A25-2.3.3")}
    lines = make_sheet(tmp_path, answers, beta)
    contents = "\n".join(table_of_contents(BODY))
    beta_link = re.search(r"\(report\.md(#[^)]+)\)", "\n".join(entry_of(lines, "A25-2.3.3"))).group(1)
    alpha_link = re.search(r"\(report\.md(#[^)]+)\)", "\n".join(entry_of(lines, "A25-2.3.2"))).group(1)
    assert (alpha_link, beta_link) == ("#results", "#results-1")
    assert f"({beta_link})" in contents and f"({alpha_link})" in contents


@pytest.mark.parametrize(
    ("question_id", "change", "message"),
    [
        ("A25-2.1.4b", lambda a: Answer("One. Two. Three. Four. Five. Six. Seven.", a.numbers, a.code, a.link), "7 sentences"),
        ("HW3-2.3.1", lambda a: Answer("Only one.", a.numbers, a.code, a.link), "1 sentences, limit at least 5"),
        ("A25-2.3.1b", lambda a: Answer(a.text, a.numbers, a.code, "No such heading"), "not a heading of report.md"),
        ("A25-2.3.1b", lambda a: Answer(a.text, a.numbers, a.code, ""), "links to no heading"),
        ("A25-3.1", lambda a: Answer(a.text, a.numbers, (), a.link), "asks for code"),
        ("A25-3.1", lambda a: Answer(a.text, a.numbers, (len,), a.link), "has no Python source"),
        ("A25-4.2b", lambda a: Answer(a.text, (), (), "Beta study"), "no number, code or figure"),
        ("A25-3.5", lambda a: Answer("First.\n\nSecond.", a.numbers, a.code, a.link), "empty line"),
    ],
)
def test_a_defective_answer_fails_the_strict_sheet_naming_its_id(tmp_path, strict, question_id, change, message):
    answers = every_answer()
    answers[question_id] = lambda ctx: change(valid_answer(question_id))
    with pytest.raises(PipelineError) as error:
        make_sheet(tmp_path, answers)
    assert f"{question_id}: " in str(error.value) and message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_figure_under_the_linked_heading_is_evidence_enough(tmp_path, strict):
    answers = every_answer()
    answers["A25-3.2"] = lambda ctx: Answer("The curve is in the figure.", link="Alpha study")
    make_sheet(tmp_path, answers)  # no error: the heading's block holds an image


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda answers, beta: answers.pop("A25-1.2.1"), "A25-1.2.1: MISSING"),
        (lambda answers, beta: beta.update({"A25-1.2.1": answers["A25-1.2.1"]}), "answered by both section `alpha` and section `beta`"),
        (lambda answers, beta: beta.update({"A25-9.9": answers["A25-1.2.1"]}), "A25-9.9: answered by section `beta`, but"),
    ],
)
def test_a_missing_doubled_or_unknown_id_fails_the_strict_sheet(tmp_path, strict, change, message):
    answers, beta = every_answer(), {}
    change(answers, beta)
    with pytest.raises(PipelineError, match=re.escape(message)):
        make_sheet(tmp_path, answers, beta)


def test_without_the_requirement_a_missing_id_is_shown_and_warned_not_fatal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sheet, "REQUIRE_EVERY_ID", False)  # the preview mode
    monkeypatch.setattr(sheet, "IMPLEMENTATION_ANSWERS", {})
    answers = every_answer()
    del answers["A25-1.2.1"]
    answers["A25-1.3.1"] = lambda ctx: 1 / 0
    lines = make_sheet(tmp_path, answers)
    assert f"**Answer:** {sheet.MISSING}" in entry_of(lines, "A25-1.2.1")
    assert "**Problem:** its answer function failed: ZeroDivisionError: division by zero  " in entry_of(lines, "A25-1.3.1")
    warnings = capsys.readouterr().err
    assert "A25-1.2.1: MISSING" in warnings and "A25-1.3.1: its answer function failed" in warnings


def test_presentation_rows_count_missing_figures_and_code_nobody_asked_for(tmp_path, strict):
    answers = every_answer()
    answers["A25-3.5"] = lambda ctx: Answer("Examples.", (("x", "1"),), (shown,), "Results")  # "examples": no code asked
    lines = make_sheet(tmp_path, answers, figure_exists=lambda image: False)
    assert "0 of them present" in "\n".join(entry_of(lines, "A25-GEN"))
    # A25-3.5 and its repeat A22-P3.5 show code nobody asked for.
    assert "- entries showing code for a question that asks for none: **2 of" in "\n".join(entry_of(lines, "HW3-GEN"))


def test_code_is_printed_from_the_source_with_its_file_and_first_line(tmp_path):
    lines = sheet.render_code(shown, ROOT)
    first = Path(__file__).read_text().splitlines().index("def shown(x: int) -> int:") + 1
    assert lines[0] == f"`tests/test_answers.py:{first}` (`shown`)"
    source = '    """An implementing function for the code rows of the synthetic sheet."""\n    return x'
    assert "\n".join(lines[2:]) == f"```python\ndef shown(x: int) -> int:\n{source}\n```\n"


def test_a_decorated_function_is_shown_from_its_own_file_with_its_decorator():
    from pipeline.translators.single_sequence import greedy_translate_words

    lines = sheet.render_code(greedy_translate_words, ROOT)
    source = (ROOT / "pipeline/translators/single_sequence.py").read_text().splitlines()
    first = source.index("def greedy_translate_words(")  # 0-based: the decorator's line, 1-based
    assert lines[0] == f"`pipeline/translators/single_sequence.py:{first}` (`greedy_translate_words`)"
    assert lines[3].startswith("@torch.no_grad()\ndef greedy_translate_words(")


def test_tag_like_tokens_are_escaped_outside_code_spans():
    assert sheet.inline("<SOS> a `<EOS>` b < c") == "&lt;SOS> a `<EOS>` b < c"


# ---------------------------------------------------------------- the implementation rows


@pytest.fixture(scope="module")
def implementation_answers() -> dict[str, Answer]:
    return {question_id: function(None) for question_id, function in IMPLEMENTATION_ANSWERS.items()}


def test_decoder_only_rows_show_the_assignments_layout(implementation_answers):
    numbers = dict(implementation_answers["A25-2.2.1"].numbers)
    assert list(numbers.values()) == ["<SOS> a b <EOP> a b w a y", "a b <EOP> a b w a y <EOS>"]  # the handout's layout
    # Loss from <EOP> on: "abway" + <EOS> out of <SOS> a b <EOP> a b w a y.
    assert [value for _, value in implementation_answers["A25-2.2.2"].numbers] == ["6 of 9", "a b w a y <EOS>"]


def test_attention_rows_show_both_query_shapes_and_the_causal_mask(implementation_answers):
    assert [v for _, v in implementation_answers["A25-2.1.1"].numbers] == ["(2, 8)", "(2, 3, 8)"]
    # 2 queries as the last 2 of 4 positions: the first sees keys 0-2, the second all 4.
    assert [v for _, v in implementation_answers["A25-2.1.2"].numbers] == ["[[1, 1, 1, 0], [1, 1, 1, 1]]"]


def test_tests_named_in_the_implementation_answers_exist(implementation_answers):
    for question_id, answer in implementation_answers.items():
        named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", answer.text)
        assert named, f"{question_id} names no test"
        for path, name in named:
            assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), f"{question_id}: {path}::{name}"


# ---------------------------------------------------------------- the committed sheet

SHEET = ROOT / "reports" / "answers.md"


def committed_entries() -> dict[str, list[str]]:
    entries, current, in_code = {}, None, False
    for line in SHEET.read_text().splitlines():
        in_code ^= line.startswith("```")
        if not in_code and line.startswith("### "):
            current = line[4:].split(":")[0]
            entries[current] = []
        elif current:
            entries[current].append(line)
    return entries


def answer_text(lines: list[str]) -> str:
    start = next(n for n, line in enumerate(lines) if line.startswith("**Answer:** "))
    end = next((n for n in range(start, len(lines)) if not lines[n].strip()), len(lines))
    return " ".join(lines[start:end]).removeprefix("**Answer:** ")


@pytest.mark.skipif(not SHEET.exists(), reason="reports/answers.md is written by the report stage")
def test_the_committed_sheet_answers_every_id_within_its_limit_with_evidence():
    entries = committed_entries()
    assert list(entries) == [question.id for question in QUESTIONS]
    report_lines = (ROOT / "reports" / "report.md").read_text().splitlines()
    headings = {h.anchor: h for h in markdown_headings(report_lines)}
    for question in QUESTIONS:
        lines = entries[question.id]
        text = answer_text(lines)
        assert not text.startswith("MISSING"), f"{question.id}: no entry"
        assert not any(line.startswith("**Problem:**") for line in lines), f"{question.id}: flagged"
        assert question.within_limit(count_sentences(text)), f"{question.id}: {count_sentences(text)} sentences"
        link = re.search(r"\]\(report\.md#([^)]+)\)", lines[1])
        figure = False
        if link:
            assert link.group(1) in headings, f"{question.id}: links to a missing heading #{link.group(1)}"
            heading = headings[link.group(1)]
            later = [h.line for h in headings.values() if h.line > heading.line and h.level <= heading.level]
            figure = any("![" in line for line in report_lines[heading.line : min(later, default=len(report_lines))])
        numbers = any(line.startswith("- ") for line in lines)
        code = "```python" in lines
        assert numbers or code or figure, f"{question.id}: no number, code or figure behind it"
        assert code or not question.asks_for_code, f"{question.id}: asks for code"


def test_the_sheets_own_code_rows_link_to_headings_of_the_committed_report(implementation_answers):
    report = (ROOT / "reports" / "report.md").read_text().splitlines()
    titles = {h.title for h in markdown_headings(report)}
    for question_id, answer in implementation_answers.items():
        assert answer.link in titles, question_id
