"""The README states what the project does; each rule it states is checked where this table says.

Tests named `file::test` live in that file under tests/; a bare name is in this module. (e2e): uses the
session `project` fixture, a real run of the shrunken pipeline.

| README section | rule | test |
|---|---|---|
| top | the main command runs every stage, logs to MLflow, writes the report from the runs | test_the_main_command_runs_the_parallel_runner; test_repro.py::test_the_whole_shrunken_pipeline_two_stages_at_a_time (e2e); studies/transformer/test_e2e.py::test_report_generated_from_the_runs (e2e) |
| top | the measured run was of the pipeline's stages (72) | test_the_headline_stage_count_is_the_pipelines |
| top | a CUDA GPU is used when present, never required | core/test_runtime.py |
| What a fresh clone has | reports, metrics, plots, timings, dvc.lock in git; outputs, data/prepared, .mlflow not | test_the_fresh_clone_table_says_what_git_holds |
| What a fresh clone has | timings apart, so `dvc metrics diff` shows only results | core/test_timings.py::test_write_metrics_stages_results_and_timings_apart; test_timings_outputs.py; studies/transformer/test_e2e.py::test_param_change_reruns_only_its_stage_and_diffs_show_it (e2e) |
| What a fresh clone has | the CLIs say so when a run is missing | translators/test_translate.py::test_a_defined_run_not_trained_yet_names_the_stage_to_run; studies/bert/test_predict.py::test_bad_input_is_one_line_and_exit_code_2 |
| study table | a row per study, its DVC stages exactly, its own MLflow experiment | test_every_study_has_a_row_in_the_study_table; test_the_study_table_names_every_dvc_stage_and_no_other; test_each_study_row_names_its_own_experiment |
| study table | one section of params.yaml per study; every params key and `-S` override it names is valid | test_every_study_has_a_params_section; test_every_params_key_the_readme_names_exists; test_the_readme_s_overrides_are_valid_params |
| study table | recurrent cells agree with torch; LSTM forget bias | translators/test_cells.py::test_gru_matches_torch_where_the_conventions_coincide, ::test_lstm_matches_torch, ::test_lstm_forget_gate_starts_at_forget_bias |
| study table | a difference is stated only beyond the seeds' spread | test_reporting.py::test_told_apart_only_beyond_a_measured_spread, ::test_compare_within_the_spread_cannot_tell_them_apart |
| Set-up | the two commands (main, tests = CI's) | test_the_main_command_runs_the_parallel_runner; test_the_test_command_is_the_one_ci_runs |
| Using it | every command and file the README names exists | test_every_module_the_readme_runs_exists; test_every_project_file_the_readme_names_exists |
| Using it | the experiment list | test_the_experiment_list_names_every_experiment_and_no_other |
| Using it | Descriptions; epochs at step = epoch, summaries at step 0 | core/test_tracked_run.py::test_a_run_and_its_experiment_have_descriptions, ::test_summary_metrics_are_logged_at_step_0_and_leave_the_epochs_curves_alone; test_mlflow_descriptions.py (e2e) |
| Using it | study in the name where runs could be confused | core/test_tracked_run.py::test_run_names_carry_the_study_prefix_where_runs_of_two_experiments_share_names; test_mlflow_descriptions.py::test_run_names_do_not_collide_across_experiments (e2e) |
| Using it | Source/Version/User columns, `git_dirty` | core/test_tracking.py::test_run_tags_say_what_ran_on_what_and_by_whom, ::test_changed_code_or_params_make_it_dirty, ::test_changed_results_do_not_make_the_code_dirty |
| Using it | `dvc_current` only on the runs behind the outputs | core/test_lineage.py::test_mark_current_tags_the_selected_runs_and_clears_the_others; studies/transformer/test_e2e.py::test_forced_rerun_marks_only_the_run_behind_the_outputs (e2e) |
| Using it | translate CLIs of every translator study | translators/test_translate.py::test_translates_with_the_default_study, ::test_translates_with_a_decoder_only_run |
| Using it | `-S` changes one param; a second repro does nothing | test_params_file.py; studies/transformer/test_e2e.py::test_param_change_reruns_only_its_stage_and_diffs_show_it, ::test_second_repro_is_a_noop (e2e) |
| Using it | offline plots page | test_plots_template.py::test_dvc_plots_show_writes_a_page_that_loads_nothing, ::test_committed_template_is_what_the_generator_writes_now |
| Using it | CLIP hub weights only from the cache unless allowed | studies/clip/test_clip.py::test_hub_weights_offline_name_the_param |
| Using it | two validation losses | core/test_training.py::test_evaluate_loss_is_token_weighted_cross_entropy; translators/test_reference_loss.py::test_batch_mean_is_logged_per_epoch_and_matches_an_independent_computation |
| Using it | IsoFLOP grid: one parent run, a child per model | studies/isoflop/test_e2e.py::test_grid_is_one_parent_run_with_a_child_per_member (e2e) |
| BERT | offline by default, no network; a local folder as checkpoint | core/test_hub.py::test_offline_mode_is_unreachable_without_a_request; studies/bert/test_classifier.py::test_local_folder_and_bundled_package_resolve_to_folders, ::test_unknown_checkpoints_fail_in_one_line_without_network |
| BERT | one run per variant; predict prints label and probabilities | studies/bert/test_e2e.py::test_mlflow_has_one_finished_run_per_variant (e2e); studies/bert/test_predict.py::test_prints_the_class_every_probability_and_the_truth_when_there_is_one |
| Where things are | the tree names what exists, and every package and module of pipeline/ | test_where_things_are_names_what_exists_and_all_of_pipeline |
| Where things are / Adding a study | the same four files and a test folder per study; code deps = closure; a report section | test_layout.py::test_every_study_has_the_same_files_and_a_stage, ::test_stage_code_deps_are_exactly_what_its_stage_function_runs, ::test_every_study_has_a_report_section; test_every_study_has_a_params_section |
| Running stages side by side | make runs `dvc --wait-for-lock repro -s`, `-k`, independent stages at once, dvc.lock as serial | test_repro.py::test_makefile_runs_dvc_single_stage_repro_after_upstream, ::test_stages_run_side_by_side_and_dvc_lock_ends_as_a_serial_repro_leaves_it |
| Running stages side by side | longest chain first, from `timings/` | test_repro.py::test_the_head_of_the_longest_chain_is_listed_first, ::test_the_plan_orders_by_the_train_seconds_the_last_run_recorded |
| Running stages side by side | one job per core by default, `-j 1`, `--dry-run`; targets; `cores // jobs` threads | test_repro_options.py; test_repro.py::test_plan_of_a_fresh_pipeline_is_every_stage_after_its_upstream, ::test_threads_split_the_cores_between_jobs |
| Running stages side by side | a run's `threads` caps it further | translators/test_train_threads.py |
| Running stages side by side | the longest stages printed, every stage's times in `.dvc/tmp/repro-stage-times.txt`; the stage commands' `python` is the command's | test_repro.py::test_each_stage_s_wall_time_is_recorded_and_the_longest_are_printed; test_repro_options.py::test_the_stage_commands_python_is_the_interpreter_running_the_command |
| Using it | the benchmarks print each run's time breakdown from the last repro | translators/test_benchmark.py::test_the_breakdown_sets_the_last_repro_beside_the_projection_over_the_epochs_it_trained; core/test_training.py::test_the_phases_split_the_loop_s_time_where_it_was_spent |
| Running stages side by side | a failed stage: the other branches finish and are recorded, non-zero exit, only what is stale reruns | test_repro.py::test_a_failing_stage_lets_the_independent_branches_finish, ::test_a_changed_input_reruns_it_and_what_is_downstream_only |
| Running stages side by side | concurrent writers: WAL, retries on "database is locked" | core/test_tracking.py::test_default_store_is_in_write_ahead_log_mode, ::test_a_locked_store_is_tried_again_and_other_errors_are_not |
| When a stage fails | every output `persist: true` | test_layout.py::test_every_output_persists_while_its_stage_runs |
| When a stage fails | outputs staged, moved into place together on success only | core/test_tracked_run.py::test_an_error_in_the_block_leaves_the_previous_outputs_and_fails_the_run, ::test_outputs_replace_the_previous_ones_together |
| When a stage fails | after a failure the previous files are byte for byte the same | studies/transformer/test_e2e.py::test_bad_params_fail_in_one_line_leave_no_running_run_and_lose_no_result, ::test_a_failed_report_loses_no_report_file (e2e) |
| Reading DVC's views | each command works and stays narrow | test_the_readable_views_work_and_stay_narrow (e2e) |
| Sharing results | push to a folder remote, pull in a fresh clone, translate | test_sharing.py (e2e) |
| Tracking store | default store in the checkout; `MLFLOW_TRACKING_URI` | core/test_tracking.py::test_default_store_lives_in_the_workspace, ::test_a_sqlite_store_named_by_the_environment_keeps_its_artifacts_beside_it |
| Tracking store | `dvc exp run --temp`/`--queue` log to the same store | core/test_tracking.py::test_main_workspace_of_a_dvc_temp_copy_is_its_parent; studies/transformer/test_e2e.py::test_temp_experiment_logs_to_the_workspace_store_and_leaves_workspace_alone (e2e) |
| Tracking store | a tracking failure keeps the outputs, says what, exits non-zero; the rerun logs without retraining | core/test_rerun_after_tracking_failure.py; core/test_tracked_run.py::test_tracker_failure_after_the_outputs_are_written_is_one_line |
| Tracking store | the report finds exactly the runs behind the outputs by their files' hash | core/test_tracked_run.py::test_successful_run_ends_finished_tagged_with_its_outputs; core/test_lineage.py::test_find_run_returns_the_newest_finished_run_with_the_fingerprint |
| Interrupted training | which stages resume | test_the_runs_that_resume_are_those_the_readme_lists (e2e); test_the_stages_that_start_over_train_for_minutes_at_most |
| Interrupted training | resume file after the first epoch, the last and every 20 s | core/test_training.py::test_resume_files_are_written_after_the_first_epoch_then_at_most_every_interval; test_the_resume_interval_is_the_training_loop_s |
| Interrupted training | a killed run ends as an uninterrupted one, in the same MLflow run | studies/transformer/test_e2e.py::test_killed_training_resumes_to_the_same_metrics (e2e); studies/turkish/test_stages.py::test_a_killed_run_resumes_in_its_mlflow_run_and_ends_as_an_uninterrupted_one; studies/clip/test_train.py::test_a_resumed_run_replays_the_retrieval_metrics_and_ends_like_an_uninterrupted_one; core/test_tracked_run.py::test_a_killed_run_with_a_fingerprint_is_reopened_then_its_state_removed |
| Errors | one line naming the key, file:line or character | test_the_error_example_is_what_a_stage_prints; core/test_params.py::test_bad_value_names_the_full_key_and_the_value, ::test_invalid_yaml_names_the_line; datasets/piglatin/test_data.py::test_read_pairs_names_file_line_and_problem; translators/test_translate.py::test_character_outside_the_vocabulary_is_one_line |
| Errors | no half-written outputs, no run left RUNNING | core/test_tracked_run.py::test_an_error_before_any_output_writes_nothing; core/test_tracking.py::test_run_ends_finished_failed_or_killed |
| Data | 3,191 / 22,385 pairs, two rule-breaking pairs | test_the_data_section_counts_what_data_raw_holds; datasets/piglatin/test_data.py::test_large_dataset_breaks_the_rule_exactly_twice |

Not checked, as they are measurements or explanations rather than rules: the wall times (of a dated run, on a
named machine), the MLflow UI's views, and why floating-point sums over other thread counts round differently.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
STUDIES = sorted(p.parent.name for p in (ROOT / "pipeline" / "studies").glob("*/stages.py"))
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
DVC_STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _study(name: str):
    return importlib.import_module(f"pipeline.studies.{name}").STUDY


def _section(title: str) -> str:
    """The README's text under the heading `title`, up to the next heading."""
    start = re.search(rf"^#+ {re.escape(title)}\n", README, re.MULTILINE).end()
    following = re.search(r"^#+ ", README[start:], re.MULTILINE)
    return README[start : start + following.start()] if following else README[start:]


def _code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def _git_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name]


def _study_of_stage(stage: str) -> str:
    """The study a dvc.yaml stage runs: its command is `python -m stages <study> ...`."""
    definition = DVC_STAGES[stage.split("@")[0]]
    return definition.get("do", definition)["cmd"].split()[3]


# ------------------------------------------------------------------ the study table


def _study_table() -> list[tuple[str, str, str]]:
    """(study, DVC stages, what it does) of each row; study is "" on the report's row."""
    rows = re.findall(r"^\| *(?:`(\w+)`)? *\| (.*?) \| (.*) \|$", README, re.MULTILINE)
    return [row for row in rows if row[1] not in ("DVC stages", "---")]


def _brace_expansions(text: str) -> list[str]:
    """`a_{x,y}` -> a_x, a_y, as the shell expands it."""
    found = re.search(r"\{([^{}]*)\}", text)
    if not found:
        return [text]
    return [
        expanded
        for choice in found.group(1).split(",")
        for expanded in _brace_expansions(text[: found.start()] + choice + text[found.end() :])
    ]


@pytest.mark.parametrize("name", STUDIES)
def test_every_study_has_a_row_in_the_study_table(name: str):
    assert re.search(rf"^\| `{name}` \|", README, re.MULTILINE), f"README.md: no row for study {name!r}"


def test_the_study_table_names_every_dvc_stage_and_no_other():
    named = {
        stage
        for _, stages, _ in _study_table()
        for span in _code_spans(stages)
        if re.fullmatch(r"[\w{},]+(@\S*)?", span)  # a stage, not a params key like `isoflop.matrix.seed`
        for stage in _brace_expansions(span.split("@")[0])
    }
    assert named == set(DVC_STAGES)


def test_each_study_row_names_its_own_experiment():
    for study, _, what in _study_table():
        if study:
            named = set(re.findall(r"experiment `([\w-]+)`", what))
            assert named == {_study(study).experiment} - {None}, study


def test_every_study_has_a_params_section():
    """One top-level section of `params.yaml` per study; tests/smoke.yaml shrinks only sections that exist."""
    assert set(STUDIES) <= set(PARAMS)
    smoke = yaml.safe_load((ROOT / "tests" / "smoke.yaml").read_text())["params"]
    assert set(smoke) <= set(PARAMS), set(smoke) - set(PARAMS)


def _params_keys_named() -> set[str]:
    """Every dotted params key the README names in code, e.g. `recurrent.runs.<run>.forget_bias`."""
    keys = set()
    for span in _code_spans(README):
        for key in re.findall(r"(?<![\w./-])(\+?[a-z_0-9]+(?:\.[\w<>-]+)+)", span):
            if key.lstrip("+").split(".")[0] in PARAMS:
                keys.add(key)
    return keys


def test_every_params_key_the_readme_names_exists():
    keys = _params_keys_named()
    assert {"piglatin.eval", "recurrent.runs.<run>.forget_bias", "transformer.extra_seeds"} <= keys  # the parser works
    for key in keys:
        if key.startswith("+"):  # `-S +key=...` adds a key that is not there yet
            continue
        nodes = [PARAMS]
        for part in key.split("."):
            if part.startswith("<"):  # a placeholder: any entry
                nodes = [child for node in nodes for child in node.values()]
            else:
                nodes = [node[part] for node in nodes if isinstance(node, dict) and part in node]
            assert nodes, f"README.md names params key {key!r}: params.yaml has no {part!r} there"


def _overrides() -> list[list[str]]:
    """The `-S` overrides of each README command, together (e.g. a checkpoint set and its new variant)."""
    groups = []
    for span in _code_spans(README):
        words = shlex.split(span) if "-S " in span else []
        overrides = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-S" and words[i + 1] != "..."]
        groups += [overrides] if overrides else []
    return groups


@pytest.mark.parametrize("overrides", _overrides(), ids=" ".join)
def test_the_readme_s_overrides_are_valid_params(overrides: list[str], tmp_path, monkeypatch):
    """DVC's own `-S` writer accepts each (no missing key), and the study's schema loads the result."""
    from tests.test_params_file import dvc_set_params

    written = yaml.safe_load(dvc_set_params(tmp_path, monkeypatch, overrides))
    for override in overrides:
        key, value = override.lstrip("+").split("=", 1)
        node = written
        for part in key.split("."):
            node = node[part]
        assert node == yaml.safe_load(value), override
    study = overrides[0].lstrip("+").split(".")[0]
    importlib.import_module(f"pipeline.studies.{study}.params").load(tmp_path / "params.yaml")


# ------------------------------------------------------------------ the headline, set-up and commands


def test_the_headline_stage_count_is_the_pipelines():
    """The timed run and the set-up section name a stage count: that of dvc.yaml today, matrices expanded."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        count = len(list(repo.index.stages))
    # "for its 72 stages", "fresh clone, 72 stages" (not "with 42 stages": an earlier, dated timing)
    stated = [int(n) for n in re.findall(r"(?:its|clone,) (\d+) stages", README)]
    assert len(stated) == 2 and set(stated) == {count}


def _fresh_clone_table() -> tuple[list[str], list[str]]:
    """The paths the table says are in git after a clone, and those only a run (or `dvc pull`) makes."""
    row = _section("What a fresh clone has, and what needs a run first").strip().splitlines()[2]
    return tuple(re.findall(r"`([\w./-]+)`", cell) for cell in row.strip("|").split("|"))


def test_the_fresh_clone_table_says_what_git_holds():
    in_git, made_by_run = _fresh_clone_table()
    assert "dvc.lock" in in_git and ".mlflow/" in made_by_run  # the parser works
    tracked = _git_files()
    for path in in_git:
        assert any(name == path or name.startswith(path) for name in tracked), f"{path} is not in git"
    for path in made_by_run:
        assert not any(name.startswith(path) for name in tracked), f"{path} is in git"
        ignored = subprocess.run(["git", "check-ignore", "-q", f"{path}x"], cwd=ROOT).returncode == 0
        assert ignored, f"{path}: a run's files would show as untracked in git"


def test_the_experiment_list_names_every_experiment_and_no_other():
    experiments = {_study(name).experiment for name in STUDIES} - {None}
    line = README[README.index("Each study logs to its own experiment") :].split(";")[0]
    assert set(re.findall(r"`([\w-]+)`", line)) == experiments


def test_the_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{ci}\n```" in README


def test_the_main_command_runs_the_parallel_runner():
    assert "```bash\npip install uv && uv sync --frozen && uv run python -m pipeline.repro\n```" in README


def test_every_module_the_readme_runs_exists():
    modules = set(re.findall(r"python -m ([\w.]+)", README))
    assert {"pipeline.repro", "pipeline.translate", "stages"} <= modules
    assert [m for m in sorted(modules) if importlib.util.find_spec(m) is None] == []


def test_every_project_file_the_readme_names_exists():
    """Paths in code spans under a folder or file git holds (`tests/...`, `pipeline/...`, `.dvc/config`), placeholders
    like `<study>` matching any; what only a run makes (outputs/, .mlflow/, dvc_plots/, .cache/) is not in git."""
    top = {name.split("/")[0] for name in _git_files()}
    made_by_run = (*_fresh_clone_table()[1], ".dvc/tmp/")
    named = {word for span in _code_spans(README) for word in span.split() if "/" in word or word in top}
    checked = [path for path in named if path.split("/")[0] in top and not path.startswith(made_by_run)]
    assert "tests/studies/transformer/test_e2e.py" in checked and "pipeline/report.py" in checked
    missing = [path for path in sorted(checked) if not list(ROOT.glob(re.sub(r"<\w+>", "*", path).rstrip("/")))]
    assert missing == []


# ------------------------------------------------------------------ Where things are


def _tree() -> list[str]:
    """The paths the "Where things are" tree names, `pipeline/` entries with their folder."""
    block = _section("Where things are").split("```")[1]
    paths, parent = [], ""
    for line in block.strip("\n").splitlines():
        indent = len(line) - len(line.lstrip())
        if indent > 2 or not line.strip():  # a description carried over to the next line
            continue
        names = re.split(r"\s{2,}", line.strip())[0]
        for name in names.split(", "):
            if indent == 0:
                parent = name if name.endswith("/") and len(re.split(r"\s{2,}", line.strip())) == 1 else ""
                paths.append(name)
            else:
                paths.append(parent + name)
    return paths


def test_where_things_are_names_what_exists_and_all_of_pipeline():
    tree = _tree()
    made_by_run = _fresh_clone_table()[1]
    assert {"params.yaml", "pipeline/core/", "pipeline/studies/<study>/", ".mlflow/"} <= set(tree)  # the parser works
    for path in tree:
        if path not in made_by_run:
            assert list(ROOT.glob(re.sub(r"<\w+>", "*", path).rstrip("/"))), f"README.md names {path}: not there"
    pipeline = ROOT / "pipeline"
    parts = {f"pipeline/{p.parent.name}/" for p in pipeline.glob("*/__init__.py")}
    parts |= {f"pipeline/{p.name}" for p in pipeline.glob("*.py") if p.name != "__init__.py"}
    parts = {"pipeline/studies/<study>/" if part == "pipeline/studies/" else part for part in parts}
    assert sorted(parts - set(tree)) == [], "pipeline/ has these, the README's tree does not"


# ------------------------------------------------------------------ interrupted training, errors, data


def _resuming() -> set[str]:
    """The studies whose training the README says resumes (a study or a stage named before "keep a resume file")."""
    sentence = _section("Interrupted training").split("keep a resume file")[0]
    return {name if name in STUDIES else _study_of_stage(name) for name in _code_spans(sentence)}


def test_the_resume_interval_is_the_training_loop_s():
    from pipeline.core.training import RESUME_EVERY_S

    stated = re.search(r"(\d+) s or more after the previous write", _section("Interrupted training"))
    assert float(stated.group(1)) == RESUME_EVERY_S


def test_the_stages_that_start_over_train_for_minutes_at_most():
    """The other stages take a few minutes at most: the training time each run of theirs recorded in the last
    full run (timings/, in git) is under five minutes."""
    assert {"transformer", "clip", "turkish"} <= _resuming() < set(STUDIES)
    long = {}
    for path in (ROOT / "timings").rglob("*.json"):
        study = path.relative_to(ROOT / "timings").parts[0]
        seconds = json.loads(path.read_text()).get("train_seconds", 0.0)
        if study not in _resuming() and seconds >= 300:
            long[str(path.relative_to(ROOT))] = seconds
    assert long == {}


@pytest.mark.e2e
def test_the_runs_that_resume_are_those_the_readme_lists(project: Path):
    """A run keeps a resume file exactly when it has a fingerprint, which its MLflow run carries as `config_sha256`."""
    from tests.e2e import store_client

    client = store_client(project)
    resumable = {
        _study_of_stage(run.data.tags["dvc_stage"])
        for experiment in client.search_experiments()
        for run in client.search_runs([experiment.experiment_id], max_results=10_000)
        if "config_sha256" in run.data.tags
    }
    assert resumable == _resuming()


def test_the_error_example_is_what_a_stage_prints(tmp_path, monkeypatch, capsys):
    """The README's example line, from the params.yaml it describes (made with DVC's own `-S` writer)."""
    from pipeline.core.errors import run_cli
    from tests.test_params_file import dvc_set_params

    example = re.search(r"^`(error: params\.yaml: [^`]+)`\.$", _section("Errors"), re.MULTILINE).group(1)
    key, value = re.match(r"error: params\.yaml: ([\w.-]+): .*, got (\S+)$", example).groups()
    dvc_set_params(tmp_path, monkeypatch, [f"{key}={value}"])  # and the working folder is tmp_path
    loader = importlib.import_module(f"pipeline.studies.{key.split('.')[0]}.params")
    with pytest.raises(SystemExit) as exited:
        run_cli(loader.load)
    assert exited.value.code != 0
    assert capsys.readouterr().err == example + "\n"


def test_the_data_section_counts_what_data_raw_holds():
    from pipeline.datasets.piglatin.data import read_pairs, rule_violations

    data = _section("Data")
    small, large = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:small|large)-set", data))
    breaking = re.findall(r"`(\w+) (\w+)`", data)
    assert len(read_pairs(ROOT / "data/raw/pig_latin_small.txt")) == small
    large_pairs = read_pairs(ROOT / "data/raw/pig_latin_large.txt")
    assert len(large_pairs) == large
    assert [(p.source, p.target) for p in rule_violations(large_pairs)] == breaking
    assert "two large-set pairs" in data and len(breaking) == 2
    raw = (ROOT / "data/raw/README.md").read_text()  # where the README points for more
    assert f"| pig_latin_small.txt | {small:,} |" in raw and f"| pig_latin_large.txt | {large:,} |" in raw


# ------------------------------------------------------------------ Reading DVC's views


def _readable_view_commands() -> list[list[str]]:
    section = README[README.index("### Reading DVC's views") :]
    block = section[section.index("```bash\n") + len("```bash\n") : section.index("\n```", section.index("```bash\n"))]
    return [shlex.split(line.removeprefix("uv run ")) for line in block.splitlines() if line.strip()]


@pytest.mark.e2e
@pytest.mark.parametrize("command", _readable_view_commands(), ids=" ".join)
def test_the_readable_views_work_and_stay_narrow(project: Path, command: list[str]):
    from tests.e2e import sh

    output = sh(project, *command).stdout
    assert output.strip(), f"{' '.join(command)} printed nothing"
    widest = max(len(line) for line in output.splitlines())
    assert widest < 300, f"{' '.join(command)}: a line of {widest} characters"


def test_the_rule_map_above_names_only_tests_that_exist():
    """The table in this module's docstring must follow the tests when they are renamed or moved."""
    cited = []
    for row in __doc__.splitlines():
        if not row.startswith("| ") or row.startswith("| README section"):
            continue
        for part in re.split(r"; |, ", row.rstrip(" |").rsplit(" | ", 1)[1]):
            part = part.removesuffix(" (e2e)")
            if part.startswith("::"):  # another test of the file named just before
                name = part[2:]
            elif "::" in part:
                path, name = part.split("::")
                file = ROOT / "tests" / path
            elif part.endswith(".py"):  # a whole test module
                file, name = ROOT / "tests" / part, None
            else:
                file, name = Path(__file__), part
            assert file.is_file(), f"{part}: no file {file}"
            assert name is None or re.search(rf"^def {name}\(", file.read_text(), re.MULTILINE), f"{part}: not in {file}"
            cited.append(part)
    assert len(cited) > 80
