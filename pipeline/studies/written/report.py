"""Report section: the written answers and the numbers that confirm them, read from the MLflow
run (experiment `written-questions`) that produced metrics/written/checks.json (`answers.checks`,
the same read as the answer sheet's). Light imports only (no torch)."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.core import figures
from pipeline.reporting import FIGURES, TABLES, ReportContext, Section
from pipeline.studies.written import STUDY
from pipeline.studies.written.answers import (
    ADDITIVE,
    ANSWERS,
    CLASSIFIERS,
    CONV,
    ENCODERS,
    JACOBIAN,
    MAXPOOL,
    NETWORKS,
    RELU,
    checks,
    classifier_readings,
)
from pipeline.studies.written.figures import FILES, draw_figures
from pipeline.studies.written.readings import reading


def render(ctx: ReportContext) -> list[str]:
    results = checks(ctx)
    m, p, tables = results.metrics, results.params, results.tables
    k = int(p["maxpool_k"])
    for name, figure in draw_figures(tables, k).items():
        figures.save(figure, ctx.out.path(FIGURES / f"written_{FILES[name]}"))
    for name, table in tables.items():
        table.to_csv(ctx.out.path(TABLES / f"written_{name}.csv"), index=False)
    matches = classifier_readings(ctx)
    matches.to_csv(ctx.out.path(TABLES / "written_published_classifier_matches.csv"), index=False)
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
        *_encoders(tables["encoder_counts"]),
        *_networks(m, tables["encoder_network"], tables["decoder_network"]),
        *_additive(tables["decoder_network"]),
        *_timing(m, tables["attention_timing"]),
        *_classifiers(m, tables["classifier_counts"], matches),
    ]


def _relu_chain(m: dict) -> list[str]:
    n, samples = int(m["relu_chain.layers"]), int(m["relu_chain.samples"])
    cases = pd.DataFrame(
        [
            {
                "case": "every pre-activation z_i > 0",
                "chains": int(m["relu_chain.all_pre_activations_positive"]),
                "bound attained: f' = ± prod w_i": int(m["relu_chain.attains_bound"]),
                "f' = 0": 0,
            },
            {
                "case": "some z_i <= 0",
                "chains": int(m["relu_chain.some_pre_activation_not_positive"]),
                "bound attained: f' = ± prod w_i": 0,
                "f' = 0": int(m["relu_chain.derivative_zero"]),
            },
        ]
    )
    return [
        f"### {RELU}",
        "",
        "**Question.** Bound |f'(x)| for f(x) = w_n relu(w_{n-1} relu(... relu(w_1 x))) with scalar weights (1.1.1: every",
        "w_i = 1).",
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
        "**1.1.1, every w_i = 1.** Then f(x) = relu(x) whatever n, so f'(x) is 1 for x > 0 and 0 for x < 0: 0 <= |f'| <= 1.",
        f"Autograd on the same {samples} inputs: f' = 1 for {int(m['relu_chain.unit_weights_derivative_one'])} (the inputs x > 0:",
        f"{int(m['relu_chain.unit_weights_positive_inputs'])}), f' = 0 for {int(m['relu_chain.unit_weights_derivative_zero'])}, no other value.",
        "",
    ]


def _sigmoid_jacobian(m: dict, table: pd.DataFrame) -> list[str]:
    shown = pd.DataFrame(
        {
            "n": table["n"].astype(int),
            "bound (1/16)^(n-1)": table["bound"],
            "random W: max": table["random_max"],
            "random W: max / bound": table["random_max_ratio"],
            "W = Q/4: max / bound": table["orthogonal_quarter_max_ratio"],
            "W = Q/2: min / bound": table["orthogonal_half_min_ratio"],
            "W = Q/2: max / (1/8)^(n-1)": table["orthogonal_half_max_ratio_to_own_bound"],
        }
    )
    return [
        f"### {JACOBIAN}",
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
    shown = table[["scale", "max_error", "bound", "max_ratio"]].rename(
        columns={
            "scale": "C",
            "max_error": "largest error",
            "bound": "bound 2 m max(abs x) e^-C",
            "max_ratio": "error / (bound + rounding)",
        }
    )
    return [
        f"### {CONV}",
        "",
        f"Kernel w = [{', '.join(kernel)}].",
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
    shown = table[["scale", "max_scaled_error", "scaled_bound", "max_ratio", "mean_error", "max_error"]].rename(
        columns={
            "scale": "C",
            "max_scaled_error": "max (M_i - y_i) x_i",
            "scaled_bound": "2k / (e C)",
            "max_ratio": "max (M_i - y_i) / bound_i",
            "mean_error": "mean M_i - y_i",
            "max_error": "max M_i - y_i",
        }
    )
    largest = m["maxpool.largest_scale"]
    return [
        f"### {MAXPOOL}",
        "",
        f"Window 2k+1 = {2 * k + 1} tokens.",
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


def _encoders(encoders: pd.DataFrame) -> list[str]:
    encoders = encoders.rename(
        columns={
            "gru": "nn.GRU",
            "gru_cell": "GRUCell (ours)",
            "gru_formula": "3H(D+H)",
            "lstm": "nn.LSTM",
            "lstm_cell": "LSTMCell (ours)",
            "lstm_formula": "4H(D+H)",
        }
    )
    return [
        f"### {ENCODERS}",
        "",
        "**Recurrent encoders without biases and without the embedding** (input size D, state size H; A22-P1.3): a GRU",
        "has three gates, each a D x H and an H x H matrix, 3H(D+H); an LSTM has four, 4H(D+H); neither depends on V or K.",
        "Counted on `nn.GRU` / `nn.LSTM` with `bias=False` and on the recurrent translators' own cells",
        "(`pipeline/translators/models/cells.py`, biases left out):",
        "",
        encoders.to_markdown(index=False),
        "",
    ]


def _networks(m: dict, encoders: pd.DataFrame, decoders: pd.DataFrame) -> list[str]:
    formulas = pd.DataFrame(
        [
            {"network": "encoder", "units": "H (K H unrolled)", "weights": "g H (D + H)", "connections over K steps": "K g H (D + H)"},
            {
                "network": "attention decoder",
                "units": "H (K H unrolled)",
                "weights": "g H (D + 2H) + 2H^2 + H + H V",
                "connections over K steps": "K [g H (D + 2H) + H V] + K^2 (2H^2 + 2H)",
            },
            {
                "network": "attention decoder, as we compute it",
                "units": "",
                "weights": "",
                "connections over K steps": "K [g H (D + 2H) + H V + 2H^2] + 2 K^2 H",
            },
        ]
    )
    terms = pd.DataFrame(
        [
            {"part (per decoder step)": "score MLP on each [s_(t-1); h_j]: W_1 (2H -> H), W_2 (H -> 1)", "connections": "K (2H^2 + H)"},
            {"part (per decoder step)": "context c_t = sum_j alpha_j h_j", "connections": "K H"},
            {
                "part (per decoder step)": "cell: input [embedding; context] (D + H) and state H to g H gate units",
                "connections": "g H (D + 2H)",
            },
            {"part (per decoder step)": "output layer H -> V", "connections": "H V"},
        ]
    )
    shown = ["cell", "K", "D", "H", "V", "units", "unrolled_units", "weights", "connections"]
    decoder_table = decoders[[*shown, "implementation_connections", "max_logit_difference"]].rename(
        columns={
            "unrolled_units": "unrolled units",
            "connections": "connections (notebooks' computation)",
            "implementation_connections": "multiply-adds of our forward",
            "max_logit_difference": "largest logit difference",
        }
    )
    match = "equal" if m["attention.networks_match"] else "do NOT equal"
    return [
        f"### {NETWORKS}",
        "",
        'The 2021 and 2022 handouts ask for the number of "LSTM units" and of "connections" of the encoder (A21-P1.3)',
        "and of `RNNAttentionDecoder` (A22-P2.1.4, A21-P2.4) in terms of K (steps), D (embedding), H (state) and V",
        "(vocabulary), biases and the embedding left out, the output layer counted. They leave three things open; the",
        "reading chosen here:",
        "",
        "- **units**: a cell has H units (its state size; an LSTM's H memory cells, each with its gates); unrolled over",
        "  the K steps the network has K H, one state vector per step. Both are given.",
        "- **connections**: one multiply-add of a unit's value with a weight (learned, or an attention weight alpha),",
        "  counted each time a shared weight is used, i.e. on the network unrolled over its K steps; the weights",
        "  themselves (the parameter count) are given beside them.",
        "- **decoder input**: the cell reads [embedding; context], D + H wide, as the notebooks' decoder (and ours) does.",
        "  g = 3 gates for the 2022 version's GRU, 4 for the 2021 version's LSTM (the question says LSTM in both).",
        "",
        formulas.to_markdown(index=False),
        "",
        "Where the decoder's connections come from:",
        "",
        terms.to_markdown(index=False),
        "",
        "Our `AdditiveAttention` writes W_1 [s; h_j] = W_s s + W_h h_j and computes the annotation half once per word and the",
        "query half once per step: the same function with 2K(K - 1)H^2 fewer multiply-adds (last row above).",
        "",
        "**Check.** Counted on the implemented modules, `RNNEncoder` and `AttentionRNNDecoder` (their embedding resized",
        "to D where the translators tie D = H), for one word of K tokens read against K annotations: weights by counting",
        "parameters, unrolled units as the state values one forward pass produces, connections as multiply-adds counted",
        "by torch's `FlopCounterMode` (2 FLOPs each), on our forward pass and on the notebooks' per-pair computation run",
        f"with the same weights (`notebook_decoder`, whose logits match ours). Every count and the formulas: **{match}**.",
        "",
        "Encoder:",
        "",
        encoders[["cell", "K", "D", "H", "units", "unrolled_units", "weights", "connections"]]
        .rename(columns={"unrolled_units": "unrolled units"})
        .to_markdown(index=False),
        "",
        "Attention decoder:",
        "",
        decoder_table.to_markdown(index=False, floatfmt=".2g"),
        "",
    ]


def _additive(decoders: pd.DataFrame) -> list[str]:
    return [
        f"### {ADDITIVE}",
        "",
        "`AdditiveAttention` (`pipeline/translators/models/recurrent.py`), with Q_t the decoder's previous state and K_i the",
        "encoder's annotations (which are also the values):",
        "",
        "- unnormalised weight: alpha~_i^(t) = f(Q_t, K_i) = W2 ReLU(W1 [Q_t; K_i] + b1) + b2, W1: 2H -> H, W2: H -> 1;",
        "- normalised weight: alpha_i^(t) = exp(alpha~_i^(t)) / sum_j exp(alpha~_j^(t)), in [0, 1], summing to 1 over i;",
        "- context: c_t = sum_i alpha_i^(t) K_i.",
        "",
        "Run against the notebooks' computation (every [Q_t; K_i] pair through the MLP) with the same weights, the decoder's",
        f"logits differ by at most {decoders['max_logit_difference'].max():.2g} (float32 rounding).",
        "",
    ]


def _timing(m: dict, timing: pd.DataFrame) -> list[str]:
    attention, plain = (timing.set_index("decoder").loc[name] for name in ("attention", "rnn"))
    apart = attention["seconds_q1"] > plain["seconds_q3"] or plain["seconds_q1"] > attention["seconds_q3"]
    slower = attention["seconds_per_step"] > plain["seconds_per_step"]
    verdict = (
        f"a step is {'slower' if slower else 'faster'} with attention (the quartile ranges over the repeats do not overlap)"
        if apart
        else "the two cannot be told apart here (their quartile ranges over the repeats overlap)"
    )

    def ms(row) -> str:
        return f"{row['seconds_per_step'] * 1000:.1f} ms (quartiles {row['seconds_q1'] * 1000:.1f}-{row['seconds_q3'] * 1000:.1f})"

    return [
        "### The attention decoder's cost per training step",
        "",
        f"One training step (forward and backward) on the same batch ({int(plain['batch'])} words of K = {int(plain['K'])}",
        f"characters), both at hidden size {int(plain['hidden'])}, median of the repeats: {ms(plain)} without attention,",
        f"{ms(attention)} with it ({m['attention.step_seconds_ratio']:.2f}x): {verdict}. At each decoder step",
        "attention adds a score MLP over all K annotations, a softmax and a weighted sum, and the cell reads a 2H-wide",
        "input: the connections above grow as K^2 with attention and as K without. The recurrent section compares the",
        "full training runs.",
        "",
    ]


def _classifiers(m: dict, classifiers: pd.DataFrame, matches: pd.DataFrame) -> list[str]:
    pivot = classifiers.assign(reading=[reading({**row, "logits": 1}).removesuffix(", 1 logit") for row in classifiers.to_dict("records")])
    pivot = pivot.pivot_table(index=["reading", "L"], columns="logits", values="parameters", aggfunc="first", sort=False)
    pivot.columns = [f"{int(o)} logit{'s' if int(o) > 1 else ''}" for o in pivot.columns]
    embedding = int(m["parameter_counts.embedding_parameters"])
    match = "all equal" if m["parameter_counts.classifiers_match"] else "MISMATCH"
    return [
        f"### {CLASSIFIERS}",
        "",
        "The sister course's question (HW3-3.1): a 10,000-token vocabulary embedded in E = 100 dimensions, sentences of",
        "L tokens, a binary decision; network A an MLP with two hidden layers of H = 256, network B a `torch.nn.RNN` of",
        'hidden size 256 "like the one used above", each with a linear output layer. It leaves open whether the',
        "embedding counts, the RNN's depth and the number of output units; every reading is counted on torch modules",
        f"(each ran once on embedded sentences; module counts against formulas: {match}). The MLP has",
        "H(LE + H + 2) + o(H + 1) parameters for o output units; the RNN H(E + H) + (n - 1) 2H^2 + b n H + o(H + 1)",
        "for n layers, with b = 2 bias vectors per layer as torch stores them (b_ih, b_hh) or b = 1 as a textbook cell",
        f"has (the two only act as their sum). Counting the embedding adds V E = {embedding:,} to every row.",
        "",
        pivot.reset_index().to_markdown(index=False),
        "",
        "The homework's published figures, and the readings that give them exactly:",
        "",
        matches.to_markdown(index=False),
        "",
        "The MLP grows with the sentence length (its first layer reads all L x E inputs); the RNN reuses its weights at",
        "every step, so its count is the same for every L"
        + (" (checked: one module read every length)." if m["parameter_counts.rnn_same_for_every_length"] else "."),
        "",
    ]


SECTION = Section(STUDY.name, render, ANSWERS)
