"""GPT against BERT, on runs made up here: same-recipe pairs found from the logged values, gaps in
sentences, the ten test sentences, Matthews correlation (against scikit-learn's own)."""

from __future__ import annotations

import pytest
from sklearn.metrics import matthews_corrcoef

from pipeline.answers.questions import BY_ID
from pipeline.answers.sentences import count_sentences
from pipeline.comparisons import classifiers
from pipeline.core.io import staged_outputs
from pipeline.studies.gpt import params
from tests.classification.fakes import TUNED, always, bert_runs, fake_context, fake_run, gpt_runs, right_except
from tests.params_helpers import PARAMS


@pytest.fixture()
def ctx(tmp_path):
    with staged_outputs(tmp_path, clear=[]) as out:
        context = fake_context(tmp_path, out, bert_runs(), gpt_runs())
        context.text = "\n".join(classifiers.render(context))
        yield context


def test_the_same_recipe_pair_is_found_from_what_the_runs_logged(ctx):
    gpt, bert = gpt_runs(), bert_runs()
    pairs = classifiers.same_recipe_pairs(gpt, bert)
    assert [(g.label, b.label) for g, b in pairs] == [("gpt/finetune", "bert/gpt_recipe")]
    # GPT wrong on 7 (1 zero + 6 negatives), BERT gpt_recipe on 5 (2 zeros + 3 negatives): 2 fewer right.
    assert (
        "the causal model gets 153 of 160 test sentences right (validation 0.9563), BERT 155 (validation 0.9688): "
        "2 test sentences of 160 fewer right for the causal model"
    ) in ctx.text
    # Another BERT recipe: no pair, the closest named with its differences.
    other = [fake_run("bert", "finetune", right_except(), recipe=TUNED)]
    lines = classifiers.same_recipe_lines(gpt, other)
    assert lines[0].startswith(
        "No GPT and BERT runs logged the same recipe and split; the closest, `gpt/finetune` and "
        "`bert/finetune`, differ in lr 5e-05 vs 0.0001; epochs 4 vs 10;"
    )


def test_the_tuned_comparison_takes_the_best_that_did_not_collapse():
    gpt = gpt_runs()
    collapsed = fake_run("bert", "constant", always("positive"), metrics={"val_accuracy": 0.99})
    good = fake_run("bert", "good", right_except(), recipe=TUNED)
    assert classifiers.best([collapsed, good], frozen=False) is good
    assert "`bert/good`" in classifiers.tuned_lines(gpt, [collapsed, good])[0]


def test_published_figures_sit_beside_their_runs():
    table = classifiers.comparison_table(params.load(PARAMS).config, gpt_runs() + bert_runs())
    rows = table.set_index("run")
    assert rows.loc["gpt/finetune", "published test"] == "0.969-0.975"
    assert rows.loc["gpt/finetune", "published val"] == "0.95-0.96"
    assert rows.loc["bert/frozen", "published test"] == "0.694"
    assert rows.loc["bert/no_pretraining", "published test"] == ""  # the notebook's BERT was pretrained
    assert rows.loc["gpt/finetune", "vs published"] == "below"  # 0.956 < 0.969


def test_matthews_correlation_is_scikit_learns():
    runs = gpt_runs() + [fake_run("bert", "constant", always("positive"))]
    table = classifiers.mcc_table(runs).set_index("run")
    predictions = runs[0].test_predictions
    assert table.loc["gpt/finetune", "Matthews correlation"] == pytest.approx(
        matthews_corrcoef(predictions["label"], predictions["prediction"]), abs=1e-4
    )
    assert table.loc["bert/constant", "Matthews correlation"] == 0.0
    assert table.loc["bert/constant", "collapsed"] == "majority baseline"


def test_ten_sentences_put_the_disagreements_first(ctx):
    ten = classifiers.ten_sentences(gpt_runs(), bert_runs())
    assert len(ten) == 10
    order = {"only gpt/finetune right": 0, "only bert/gpt_recipe right": 0, "both wrong": 1, "both right, closest call": 2}
    assert list(ten["what"].map(order)) == sorted(ten["what"].map(order))
    # GPT is wrong on negatives 1-6 and the first zero; BERT gpt_recipe on negatives 0-2 and both zeros.
    assert (ten["what"] == "both wrong").sum() == 3  # negatives 1, 2 and the first zero


@pytest.mark.parametrize("question", sorted(classifiers.ANSWERS))
def test_answers_keep_their_sentence_limits(ctx, question):
    answer = classifiers.ANSWERS[question](ctx)
    assert BY_ID[question].within_limit(count_sentences(answer.text)), (count_sentences(answer.text), answer.text)
    assert answer.numbers and answer.link


def test_the_ten_results_are_given_as_numbers(ctx):
    answer = classifiers.ANSWERS["A21-P4.3"](ctx)
    assert len(answer.numbers) == 10
    assert "`gpt/finetune` gets 153 of 160 unseen test sentences right and `bert/gpt_recipe` 155" in answer.text
