"""Report section: the written answers and the numbers that confirm them, read from the MLflow
run (experiment `written-questions`) that produced metrics/written/checks.json. Light
imports only (no torch)."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section, artifact_table
from pipeline.studies.written import LINEAGE, RUN, STAGE, STUDY, TABLE_NAMES
from pipeline.studies.written.figures import FILES, draw_figures
from pipeline.studies.written.tables import from_mlflow


def render(ctx: ReportContext) -> list[str]:
    run = ctx.run_for(STUDY, RUN, STAGE, lineage=LINEAGE)
    m, p = run.data.metrics, run.data.params
    tables = {name: from_mlflow(artifact_table(ctx.client, run.info.run_id, f"tables/{name}.json")) for name in TABLE_NAMES}
    k = int(p["maxpool_k"])
    for name, figure in draw_figures(tables, k).items():
        figures.save(figure, ctx.out.path(FIGURES / f"written_{FILES[name]}"))
    for name, table in tables.items():
        table.to_csv(ctx.out.path(TABLES / f"written_{name}.csv"), index=False)
    return [
        f"## Written questions, answered by code (MLflow experiment `{STUDY.experiment}`)",
        "",
        "Each pen-and-paper answer is checked on seeded random instances in float64 by the stage `written_checks`",
        "(`pipeline/studies/written/`); the stage fails, recording nothing, if any check fails. Derivatives come from",
        "torch's autograd, convolutions from `F.conv1d`, pooling from `F.max_pool1d`, counts from torch modules.",
        "",
        *_relu_chain(m),
        *_sigmoid_jacobian(m, tables["jacobian"]),
        *_conv(m, p, tables["conv"]),
        *_maxpool(m, k, tables["maxpool"]),
        *_counts(m, p, tables["encoder_counts"], tables["classifier_counts"]),
        *_attention(m, tables["attention_connections"], tables["attention_timing"]),
    ]


def _relu_chain(m: dict) -> list[str]:
    n, samples = int(m["relu_chain.layers"]), int(m["relu_chain.samples"])
    cases = pd.DataFrame([
        {"case": "every pre-activation z_i > 0", "chains": int(m["relu_chain.all_pre_activations_positive"]),
         "bound attained: f' = ± prod w_i": int(m["relu_chain.attains_bound"]), "f' = 0": 0},
        {"case": "some z_i <= 0", "chains": int(m["relu_chain.some_pre_activation_not_positive"]),
         "bound attained: f' = ± prod w_i": 0, "f' = 0": int(m["relu_chain.derivative_zero"])},
    ])
    return [
        "### 1.1.2 The gradient of a ReLU chain",
        "",
        "**Question.** Bound |f'(x)| for f(x) = w_n relu(w_{n-1} relu(... relu(w_1 x))) with scalar weights.",
        "",
        "**Answer.** By the chain rule f'(x) = w_n prod_{i<n} 1[z_i > 0] w_i (z_i the pre-activations), so",
        "0 <= |f'(x)| <= prod_i |w_i|, with equality when every z_i > 0 and f'(x) = 0 as soon as one z_i <= 0.",
        "",
        f"**Check.** {samples} random chains with n = {n} (weights and x drawn N(0, 1)), f' by autograd. A chain has every",
        f"z_i > 0 with probability 2^-(n-1) = {m['relu_chain.expected_fraction_positive']:.4g} (z_1 > 0, then every later w_i > 0);",
        f"observed {m['relu_chain.observed_fraction_positive']:.4g}.",
        "",
        cases.to_markdown(index=False),
        "",
        f"Largest violation max(|f'| - prod |w_i|, 0): **{m['relu_chain.max_violation']:.3g}**; largest difference between autograd",
        f"and the closed form: {m['relu_chain.max_error_vs_closed_form']:.3g}; chains whose first non-positive z_i is exactly 0",
        f"(the kink, where torch takes relu'(0) = 0): {int(m['relu_chain.kink_cases'])}.",
        "",
    ]


def _sigmoid_jacobian(m: dict, table: pd.DataFrame) -> list[str]:
    shown = pd.DataFrame({
        "n": table["n"].astype(int),
        "bound (1/16)^(n-1)": table["bound"],
        "random W: max": table["random_max"],
        "random W: max / bound": table["random_max_ratio"],
        "W = Q/4: max / bound": table["orthogonal_quarter_max_ratio"],
        "W = Q/2: min / bound": table["orthogonal_half_min_ratio"],
        "W = Q/2: max / (1/8)^(n-1)": table["orthogonal_half_max_ratio_to_own_bound"],
    })
    return [
        "### 1.2.1 Vanishing gradients through sigmoids",
        "",
        "**Question.** For x_{t+1} = sigmoid(W x_t) with sigma_max(W) = 1/4, bound the Jacobian dx_n/dx_1.",
        "",
        "**Answer.** One step's Jacobian is diag(sigmoid'(W x_t)) W and sigmoid' <= 1/4, so its sigma_max is at most",
        "(1/4)(1/4) = 1/16; sigma_max is submultiplicative, so sigma_max(dx_n/dx_1) <= (1/16)^(n-1).",
        "",
        f"**Check.** {int(m['sigmoid_jacobian.samples'])} random x_1 in R^{int(m['sigmoid_jacobian.dim'])} for each of three kinds of W:",
        "Gaussian W rescaled to sigma_max 1/4, W = Q/4 with Q a random orthogonal matrix (every direction has gain 1/4:",
        "the bound is nearly attained), and W = Q/2 (sigma_max 1/2, a control outside the question's assumption).",
        "Jacobians by `torch.autograd.functional.jacobian`; they agree with prod diag(sigmoid') W multiplied out to",
        f"{m['sigmoid_jacobian.max_error_vs_closed_form_over_bound']:.2g} x the bound.",
        "",
        shown.to_markdown(index=False, floatfmt=".4g"),
        "",
        f"Largest measured / bound over every n: random W **{m['sigmoid_jacobian.random_max_ratio']:.6g}** (1 - ratio = "
        f"{1 - m['sigmoid_jacobian.random_max_ratio']:.2g}), W = Q/4 **{m['sigmoid_jacobian.orthogonal_quarter_max_ratio']:.6g}** "
        f"(1 - ratio = {1 - m['sigmoid_jacobian.orthogonal_quarter_max_ratio']:.2g}): the bound holds, and is nearly attained",
        "at n = 2, where one step's sigma_max is the largest sigmoid' over the coordinates (1/4 at a pre-activation of 0).",
        f"With sigma_max(W) = 1/2 every sample exceeds (1/16)^(n-1) (smallest ratio {m['sigmoid_jacobian.orthogonal_half_min_ratio']:.3g}):",
        "the bound depends on the assumption; the same argument gives (1/8)^(n-1) there, which holds (last column).",
        "",
        f"![Jacobian bound](figures/written_{FILES['jacobian']})",
        "",
    ]


def _conv(m: dict, p: dict, table: pd.DataFrame) -> list[str]:
    kernel = [f"{w:g}" for w in json.loads(p["conv_kernel"])]
    radius = (len(kernel) - 1) // 2
    shown = table[["scale", "max_error", "bound", "max_ratio"]].rename(columns={
        "scale": "C", "max_error": "largest error", "bound": "bound 2 m max(abs x) e^-C", "max_ratio": "error / (bound + rounding)",
    })
    return [
        f"### 1.3.1 Relative attention as Conv1D with kernel [{', '.join(kernel)}]",
        "",
        "**Question.** Choose W_Q, W_K, W_V and the relative-position biases p of the layer",
        "alpha_ij = Q_i K_j / sqrt(d_k) + p_{i-j}, y_i = sum_j softmax_j(alpha_i) V_j so that it computes the convolution.",
        "",
        "**Construction** (`RelAttnLayer`, `conv_layer`). W_Q = W_K = 0, so the scores are p alone; p_{r-m} = log w_m on",
        f"every tap m with w_m > 0 (r = {radius}; token j = i + m - r sits at offset i - j = r - m) and p = -inf at every other",
        "offset (w_m = 0 included); W_V = sum(w) I. The softmax weights are then exactly w_m / sum(w), and W_V restores",
        "the scale. A softmax head mixes with weights >= 0, so this works for kernels with entries >= 0.",
        "",
        f"**Check.** {int(m['conv.samples'])} random sequences of {int(m['conv.length'])} tokens x {int(m['conv.channels'])} channels, N(0, 1), against",
        "`F.conv1d` (each channel, zero padding r):",
        "",
        f"- interior outputs (i = r .. T-1-r): largest difference **{m['conv.exact_max_error_interior']:.3g}** (float rounding);",
        f"- the r first and last outputs differ (up to {m['conv.exact_max_error_boundary']:.3g}): the softmax renormalises over the",
        "  taps inside the sequence where `F.conv1d` pads zeros; with r zero tokens prepended and appended every output matches",
        f"  (largest difference {m['conv.exact_max_error_zero_padded']:.3g}).",
        "",
        "With real-valued p (a finite penalty p = -C off the kernel instead of -inf) the layer is only approximate:",
        f"y_i - conv_i = e^-C (sum(w) S - m conv_i) / (sum(w) + m e^-C), S the sum of the m = {int(m['conv.off_kernel_positions'])} off-kernel",
        "inputs of the row, so |y_i - conv_i| <= 2 m max|x| e^-C. Measured (interior, largest over the samples):",
        "",
        shown.to_markdown(index=False, floatfmt=("g", ".3g", ".3g", ".3g")),
        "",
        f"Cases above the bound (plus float rounding): {int(m['conv.penalty_violations'])}.",
        "",
        f"![Conv1D error](figures/written_{FILES['conv']})",
        "",
    ]


def _maxpool(m: dict, k: int, table: pd.DataFrame) -> list[str]:
    shown = table[["scale", "max_scaled_error", "scaled_bound", "max_ratio", "mean_error", "max_error"]].rename(columns={
        "scale": "C", "max_scaled_error": "max (M_i - y_i) x_i", "scaled_bound": "2k / (e C)",
        "max_ratio": "max (M_i - y_i) / bound_i", "mean_error": "mean M_i - y_i", "max_error": "max M_i - y_i",
    })
    largest = m["maxpool.largest_scale"]
    return [
        f"### 1.3.2 Relative attention approximating max-pooling over 2k+1 = {2 * k + 1} tokens",
        "",
        "**Construction** (`maxpool_layer`, scalar tokens, d_k = 1). W_Q = W_K = sqrt(C) (so W_Q W_K / sqrt(d_k) = C),",
        "W_V = 1, p = 0 at offsets |i - j| <= k and -inf outside. The scores are C x_i x_j: for x_i > 0 the softmax over the",
        "window concentrates on its largest x_j as C grows.",
        "",
        "**Bound.** With M_i the window max and each weight at most e^{-C x_i (M_i - x_j)},",
        "M_i - y_i = sum_j w_j (M_i - x_j) <= 2k max_t t e^{-C x_i t} = 2k / (e C x_i) for x_i > 0.",
        "",
        f"**Check.** {int(m['maxpool.samples'])} sequences of {int(m['maxpool.length'])} tokens uniform in (0, 1], against `F.max_pool1d`",
        "(stride 1, window truncated at the ends):",
        "",
        shown.to_markdown(index=False, floatfmt=".4g"),
        "",
        f"Cases above the bound: **{int(m['maxpool.violations'])}** (largest error / bound {m['maxpool.max_ratio']:.3g}); no output exceeds its",
        f"window max (smallest M_i - y_i {m['maxpool.min_error']:.3g}). The largest unscaled error stays large",
        f"({m['maxpool.max_error_at_largest_scale']:.3g} at C = {largest:g}) at positions whose own x_i is near 0, as the bound says:",
        "the construction needs x_i bounded away from 0.",
        "",
        f"- **x_i = 0**: every score in the window is 0 and the layer returns the window **mean**, not the max: at C = {largest:g},",
        f"  output {m['maxpool.zero_centre_output']:.6f}, window mean {m['maxpool.zero_centre_window_mean']:.6f}, window max "
        f"{m['maxpool.zero_centre_window_max']:.6f}.",
        f"- **x_i < 0** (x_i = {m['maxpool.negative_centre_value']:g} among positive neighbours): the softmax concentrates on the window",
        f"  **minimum** instead: output {m['maxpool.negative_centre_output']:.6f}, window min {m['maxpool.negative_centre_window_min']:.6f},"
        f" window max {m['maxpool.negative_centre_window_max']:.6f}.",
        "",
        f"![max-pooling error](figures/written_{FILES['maxpool']})",
        "",
    ]


def _counts(m: dict, p: dict, encoders: pd.DataFrame, classifiers: pd.DataFrame) -> list[str]:
    v, e, h = int(p["vocab_size"]), int(p["embedding_dim"]), int(p["hidden_size"])
    encoders = encoders.rename(columns={
        "gru": "nn.GRU", "gru_cell": "GRUCell (ours)", "gru_formula": "3H(D+H)",
        "lstm": "nn.LSTM", "lstm_cell": "LSTMCell (ours)", "lstm_formula": "4H(D+H)",
    })
    shown = pd.DataFrame({
        "L": classifiers["L"],
        "MLP (module)": classifiers["mlp"],
        "H(LE+H+3)+1": classifiers["mlp_formula"],
        "RNN + head (module)": classifiers["rnn"],
        "H(E+H+3)+1": classifiers["rnn_formula"],
        "MLP / RNN": classifiers["mlp_over_rnn"].map(lambda r: f"{r:.2f}"),
    })
    match = "all equal" if m["parameter_counts.encoders_match"] and m["parameter_counts.classifiers_match"] else "MISMATCH"
    return [
        "### Parameter counts (questions of earlier versions)",
        "",
        "**Recurrent encoders without biases and without the embedding** (input size D, state size H): a GRU has three",
        "gates, each a D x H and an H x H matrix, 3H(D+H); an LSTM has four, 4H(D+H). Counted on `nn.GRU` / `nn.LSTM`",
        "with `bias=False` and on the recurrent translators' own cells (`pipeline/studies/recurrent/cells.py`, biases",
        "left out):",
        "",
        encoders.to_markdown(index=False),
        "",
        f"**MLP versus RNN classifier** (the sister course): a {v:,}-token vocabulary embedded in E = {e} dimensions, sequences",
        f"of L tokens, binary classification with one logit, embedding ({int(m['parameter_counts.embedding_parameters']):,} parameters)",
        f"not counted. The MLP has two hidden layers of H = {h} on the flattened L x E input: LE H + H + H^2 + H + H + 1 =",
        f"H(LE+H+3)+1. The RNN is `nn.RNN(E, H)` (torch keeps two bias vectors: H(E+H) + 2H) and a linear head on the",
        "last state, H(E+H+3)+1. Each module ran once on embedded sequences of each length.",
        "",
        shown.to_markdown(index=False),
        "",
        f"Module counts against formulas: {match}. The MLP's first layer grows linearly with the sequence length; the RNN",
        "reuses the same weights at every step, so its count does not depend on L"
        + (" (checked: the same module read every length)." if m["parameter_counts.rnn_same_for_every_length"] else "."),
        "",
    ]


def _attention(m: dict, connections: pd.DataFrame, timing: pd.DataFrame) -> list[str]:
    attention, plain = (timing.set_index("decoder").loc[name] for name in ("attention", "rnn"))
    return [
        "### The attention decoder's connections, and its cost (2021/2022 handouts)",
        "",
        "Over K source and K target steps, an RNN decoder without attention reads the source once, through the",
        "encoder's final state: no decoder step connects to an annotation directly. With additive attention every",
        "decoder step reads every annotation: K x K connections. Counted with autograd on the recurrent study's own",
        "models (a pair is connected when that step's logits have a non-zero gradient with respect to that annotation;",
        "the final-state handoff is detached):",
        "",
        connections.rename(columns={"rnn": "RNN decoder", "attention": "attention decoder", "K_squared": "K^2"}).to_markdown(index=False),
        "",
        f"One training step (forward and backward) on the same batch ({int(plain['batch'])} words of K = {int(plain['K'])}",
        f"characters), both at hidden size {int(plain['hidden'])}: {plain['seconds_per_step'] * 1000:.1f} ms without attention,",
        f"{attention['seconds_per_step'] * 1000:.1f} ms with it ({m['attention.step_seconds_ratio']:.2f}x). At each decoder step",
        "attention adds a score MLP over all K annotations, a softmax and a weighted sum, and the cell reads a 2H-wide",
        "input; the per-word work grows as K x K instead of 2K. The recurrent section shows the same on the full runs.",
        "",
    ]


SECTION = Section(STUDY.name, render)
