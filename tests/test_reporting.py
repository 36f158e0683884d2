"""Helpers of `pipeline.reporting`: the run-to-run spread (a difference is stated only beyond it), and a
figure saved with the line that links it."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest

from pipeline.core.io import staged_outputs
from pipeline.reporting import REPORT, ReportContext, compare, save_figure, seed_spread, told_apart


def test_spread_is_the_range_over_seeds_and_none_from_one_seed():
    assert seed_spread([0.42, 0.47, 0.44]) == pytest.approx(0.05)
    assert seed_spread([0.42]) is None


@pytest.mark.parametrize(
    ("a", "b", "spread", "apart"),
    [(0.40, 0.50, 0.05, True), (0.40, 0.43, 0.05, False), (0.50, 0.40, 0.05, True), (0.40, 0.45, 0.05, False), (0.4, 0.9, None, False)],
    ids=["beyond", "within", "either-order", "exactly-the-spread", "unmeasured"],
)
def test_told_apart_only_beyond_a_measured_spread(a, b, spread, apart):
    assert told_apart(a, b, spread) is apart


def test_compare_names_the_lower_run_and_the_gap_beyond_the_spread():
    assert compare("`A`", 0.50, "`B`", 0.40, 0.05) == (
        "`B` (0.400) is lower than `A` (0.500) by 0.100, beyond the run-to-run spread of 0.050"
    )


def test_compare_within_the_spread_cannot_tell_them_apart():
    assert compare("`A`", 0.41, "`B`", 0.43, 0.05) == (
        "`A` (0.410) and `B` (0.430) cannot be told apart: they differ by 0.020, within the run-to-run spread of 0.050"
    )


def test_compare_without_a_spread_says_it_may_be_noise():
    assert compare("`A`", 0.41, "`B`", 0.43, None).endswith("but no run-to-run spread was measured for them, so this may be noise")


def test_a_saved_figure_is_linked_where_it_was_written(tmp_path):
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    with staged_outputs(tmp_path) as out:
        line = save_figure(ReportContext(tmp_path, out), figure, "curve.png", "a curve")
    alt, link = re.fullmatch(r"!\[(.*)\]\((.*)\)", line).groups()
    assert alt == "a curve"
    # the link, read from the report's folder, is the PNG written
    assert (tmp_path / REPORT.parent / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
