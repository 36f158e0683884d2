"""The written questions of the assignment, answered by code: every pen-and-paper answer
becomes a numeric check on random (seeded) instances, in float64.

- 1.1.2 `gradients.relu_chain_check`: the derivative of a scalar ReLU chain is the product
  of its weights when every pre-activation is positive, 0 otherwise, so
  0 <= |f'(x)| <= prod |w_i|;
- 1.2.1 `gradients.sigmoid_jacobian_check`: with sigma_max(W) = 1/4 the Jacobian of
  x_{t+1} = sigmoid(W x_t) over n-1 steps has sigma_max <= (1/16)^(n-1);
- 1.3.1 `relative_attention.conv_check`: a relative-attention layer (`RelAttnLayer`) whose
  parameters implement a 1-D convolution (compared with `F.conv1d`);
- 1.3.2 `relative_attention.maxpool_check`: the same layer approximating max-pooling, its
  error against the bound 2k / (e C x_i);
- 1.1.1 the same chain with every weight 1: f'(x) is 1 or 0;
- `parameter_counts`: GRU/LSTM encoder sizes and the MLP-versus-RNN classifier sizes under
  every reading of the homework's question, counted on torch modules beside their formulas;
- `attention_questions`: units and connections of the recurrent encoder and the attention
  decoder, counted on the implemented modules beside the formulas in K, D, H, V.

Stage `written_checks` (`python -m stages written check`) writes every number to
`metrics/written/checks.json` (its timing to `timings/written/checks.json`), the curves to
`plots/written/*.csv` and the figures to `outputs/written/`, and logs them to one MLflow
run in the experiment below; the report section reads that run.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.paths import Study, timings_file

STUDY = Study(
    "written",
    experiment="written-questions",
    description="The assignment's pen-and-paper answers as numeric checks on seeded random instances (float64), "
    "one run `checks`: each metric is named `<question>.<number>`; every answer holds when `checks_failed` is 0.",
    metrics={
        "checks_failed": "answers whose numeric check failed (the stage fails unless it is 0)",
        "relu_chain.*": "1.1.2, a scalar ReLU chain's derivative against prod |w_i| over `samples` chains: "
        "`max_violation` must be 0, `attains_bound` counts chains reaching it (every pre-activation positive), "
        "`derivative_zero` those with f' = 0, `kink_cases` a pre-activation exactly 0; `unit_weights_*` (1.1.1): with "
        "every weight 1, how many chains had f' = 1 (as many as inputs x > 0) and f' = 0",
        "sigmoid_jacobian.*": "1.2.1, sigma_max of the Jacobian of x_{t+1} = sigmoid(W x_t) over n-1 steps: "
        "`*_ratio` = measured / the bound (1/16)^(n-1) (<= 1: it holds); `orthogonal_half_min_ratio` > 1 shows the "
        "bound needs sigma_max(W) <= 1/4",
        "conv.*": "1.3.1, relative attention implementing Conv1D: `exact_max_error_*` of the exact construction against "
        "`F.conv1d`, `penalty_*` of a finite penalty C against its bound 2 m max|x| e^-C (`penalty_violations` must be 0)",
        "maxpool.*": "1.3.2, relative attention approximating max-pooling: `max_ratio` = error / the bound 2k / (e C x_i) "
        "(<= 1: it holds), `violations` must be 0; `zero_centre_*` and `negative_centre_*` are the two worked examples",
        "parameter_counts.*": "GRU/LSTM encoder and MLP-versus-RNN classifier sizes: `*_match` is 1 when torch's count equals the formula",
        "attention.*": "`networks_match` is 1 when the units, weights and connections counted on the recurrent encoder "
        "and attention decoder equal the formulas in K, D, H, V; `step_seconds_ratio` is the measured time per step "
        "over the RNN's",
    },
)
RUN = "checks"  # the one MLflow run; its metrics file is STUDY.paths(RUN).metrics_file
STAGE = "written_checks"
METRICS = STUDY.paths(RUN).metrics_file  # metrics/written/checks.json: every number (tables too) but the timing
TIMINGS = timings_file(METRICS)  # timings/written/checks.json: the timing, attention.step_seconds_ratio
LINEAGE = [METRICS, TIMINGS]  # the files whose hash identifies the run: the stage and the report hash the same
PLOTS = Path("plots") / STUDY.name  # jacobian.csv, conv.csv, maxpool.csv: the curves
OUTPUTS = Path("outputs") / STUDY.name  # the figures
CURVES = ("jacobian", "conv", "maxpool")  # the curves, plots/written/<name>.csv
TABLE_NAMES = (  # every table, logged as tables/<name>.json
    *CURVES,
    "encoder_counts",
    "classifier_counts",
    "encoder_network",
    "decoder_network",
    "attention_timing",
)
