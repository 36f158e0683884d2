"""The written study's entries of the answer sheet: the proofs of 1.1-1.3 (2025), the cell code, the
parameter, unit and connection counts (2021/2022) and the MLP-versus-RNN counts (homework 3).

Every answer states the result and backs it with the numbers the stage `written_checks` computed
(read once from its MLflow run, shared with the report section through `checks`). The code rows
show the recurrent study's cells and attention (imported when answered: the report module stays
free of torch until then).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from pipeline.reporting import Answer, AnswerFunction, ReportContext, artifact_table
from pipeline.studies.written import LINEAGE, RUN, STAGE, STUDY, TABLE_NAMES, params
from pipeline.studies.written.readings import published_matches
from pipeline.studies.written.tables import from_mlflow

RELU = "1.1.1 and 1.1.2 The gradient of a ReLU chain"
JACOBIAN = "1.2.1 Vanishing gradients through sigmoids"
CONV = "1.3.1 Relative attention as Conv1D"
MAXPOOL = "1.3.2 Relative attention approximating max-pooling"
ENCODERS = "Recurrent encoders: parameter counts"
NETWORKS = "Units and connections of the recurrent encoder and the attention decoder"
ADDITIVE = "Additive attention: score, weights and context"
CLASSIFIERS = "MLP versus RNN classifier: parameter counts"
CELLS = {"gru": "GRU", "lstm": "LSTM"}
VERSION_CELL = {"A22": "gru", "A21": "lstm"}  # the 2022 decoder is a GRU, the 2021 one an LSTM


@dataclass(frozen=True)
class Checks:
    """The `written_checks` run behind metrics/written/checks.json: its numbers and tables."""

    run_id: str
    metrics: dict[str, float]
    params: dict[str, str]
    tables: dict[str, pd.DataFrame]


def checks(ctx: ReportContext) -> Checks:
    def load() -> Checks:
        run = ctx.run_for(STUDY, RUN, STAGE, lineage=LINEAGE)
        tables = {name: from_mlflow(artifact_table(ctx.client, run.info.run_id, f"tables/{name}.json")) for name in TABLE_NAMES}
        return Checks(run.info.run_id, dict(run.data.metrics), dict(run.data.params), tables)

    return ctx.memo("written:checks", load)


def published(ctx: ReportContext) -> dict[str, dict[int, int]]:
    """The homework's published classifier counts, from params.yaml (reference figures, not results)."""
    return ctx.memo("written:published", lambda: params.load().config.published.classifier_parameters)


def run_label(what: str) -> str:
    return f"{what}, run `{RUN}`"


def _int(value: float) -> str:
    return f"{int(value):,}"


# ------------------------------------------------------------------- 1.1-1.3 (2025)


def relu_unit_weights(ctx: ReportContext) -> Answer:
    m = checks(ctx).metrics
    samples, layers = int(m["relu_chain.samples"]), int(m["relu_chain.layers"])
    one, zero = int(m["relu_chain.unit_weights_derivative_one"]), int(m["relu_chain.unit_weights_derivative_zero"])
    text = (
        "No: with every weight 1 each layer computes relu of the one before, and relu(relu(z)) = relu(z), so "
        "f(x) = relu(x) for any depth n and f'(x) is 1 for x > 0 and 0 for x < 0, hence 0 <= |f'(x)| <= 1. "
        "The gradient can neither explode (it never exceeds 1) nor shrink with depth (it is exactly 1 or exactly 0, "
        "the 0 coming from the input side of one ReLU, not from a product of small factors). "
        f"Checked by autograd on {samples:,} random inputs through {layers} unit-weight layers: f' = 1 for {one:,} of "
        f"them (every x > 0: {int(m['relu_chain.unit_weights_positive_inputs']):,}) and 0 for the other {zero:,}, "
        "no other value."
    )
    numbers = tuple(
        (run_label(what), _int(m[f"relu_chain.{key}"]))
        for what, key in (
            ("random inputs", "samples"),
            ("f' = 1", "unit_weights_derivative_one"),
            ("f' = 0", "unit_weights_derivative_zero"),
            ("inputs x > 0", "unit_weights_positive_inputs"),
        )
    )
    return Answer(text, numbers, link=RELU)


def relu_weights(ctx: ReportContext) -> Answer:
    m = checks(ctx).metrics
    samples, layers = int(m["relu_chain.samples"]), int(m["relu_chain.layers"])
    positive = int(m["relu_chain.all_pre_activations_positive"])
    text = (
        "By the chain rule f'(x) = w_n prod_{i<n} 1[z_i > 0] w_i (z_i the pre-activations), so "
        "0 <= |f'(x)| <= prod_i |w_i|, with equality when every z_i > 0 and f'(x) = 0 as soon as one z_i <= 0. "
        "Vanishing or exploding is therefore not forced: the bound is set by the weights, not by the depth, and stays "
        "near 1 when the |w_i| are near 1; it shrinks geometrically only if the weights are small (prod |w_i| -> 0) "
        "and grows only if they are large, and the lower bound 0 is a dead ReLU, not a vanishing product. "
        f"Checked by autograd on {samples:,} random chains of n = {layers} (weights and x drawn N(0, 1)): the largest "
        f"excess of |f'| over prod |w_i| is {m['relu_chain.max_violation']:.3g}, the bound is attained in "
        f"{int(m['relu_chain.attains_bound']):,} of the {positive:,} chains whose pre-activations are all positive, and "
        f"f' = 0 in all {int(m['relu_chain.derivative_zero']):,} others."
    )
    numbers = (
        (run_label("chains"), _int(samples)),
        (run_label("largest |f'| - prod |w_i|"), f"{m['relu_chain.max_violation']:.3g}"),
        (run_label("chains attaining prod |w_i|"), _int(m["relu_chain.attains_bound"])),
        (run_label("chains with every z_i > 0"), _int(positive)),
        (run_label("chains with f' = 0"), _int(m["relu_chain.derivative_zero"])),
    )
    return Answer(text, numbers, link=RELU)


def sigmoid_jacobian(ctx: ReportContext) -> Answer:
    m = checks(ctx).metrics
    ratio = m["sigmoid_jacobian.random_max_ratio"]
    text = (
        "One step's Jacobian is dx_{t+1}/dx_t = diag(sigmoid'(W x_t)) W, and sigmoid'(u) = s(1 - s) <= 1/4, so "
        "sigma_max(diag(sigmoid') W) <= (1/4) sigma_max(W) = 1/16. "
        "The input-output Jacobian is the product dx_n/dx_1 = prod_{t=n-1..1} diag(sigmoid'(W x_t)) W of n - 1 such "
        "factors, and sigma_max(AB) <= sigma_max(A) sigma_max(B) gives 0 <= sigma_max(dx_n/dx_1) <= (1/16)^(n-1) "
        "(>= 0 as any singular value). "
        f"Checked by autograd for n = {int(m['sigmoid_jacobian.first_n'])}..{int(m['sigmoid_jacobian.last_n'])} on "
        f"{int(m['sigmoid_jacobian.samples']):,} random W rescaled to sigma_max 1/4 and x_1 in R^{int(m['sigmoid_jacobian.dim'])}: "
        f"the largest measured sigma_max over the bound is {ratio:.6g}, and {m['sigmoid_jacobian.orthogonal_quarter_max_ratio']:.6g} "
        "for W = Q/4 (Q orthogonal), so the bound holds and is nearly attained; with sigma_max(W) = 1/2 every sample "
        f"exceeds it (smallest ratio {m['sigmoid_jacobian.orthogonal_half_min_ratio']:.3g}), so it needs the assumption."
    )
    numbers = tuple(
        (run_label(what), f"{m[f'sigmoid_jacobian.{key}']:.6g}")
        for what, key in (
            ("largest sigma_max / (1/16)^(n-1), random W", "random_max_ratio"),
            ("largest sigma_max / (1/16)^(n-1), W = Q/4", "orthogonal_quarter_max_ratio"),
            ("smallest sigma_max / (1/16)^(n-1), W = Q/2", "orthogonal_half_min_ratio"),
        )
    )
    return Answer(text, numbers, link=JACOBIAN)


def conv_choices(kernel: list[float]) -> tuple[str, str]:
    """(the biases p in words, W_V) of the exact construction for `kernel` (see relative_attention)."""
    radius = (len(kernel) - 1) // 2
    taps = [f"p_{radius - m} = log {w:g}" + (" = 0" if w == 1 else "") for m, w in enumerate(kernel) if w > 0]
    off = [str(radius - m) for m, w in enumerate(kernel) if w <= 0]
    others = f"p = -inf at offset {', '.join(off)} and at every |i - j| > {radius}" if off else f"p = -inf at every |i - j| > {radius}"
    return f"{', '.join(taps)} (offset i - j), {others}", f"{sum(kernel):g}"


def conv(ctx: ReportContext) -> Answer:
    c = checks(ctx)
    m, kernel = c.metrics, [float(w) for w in json.loads(c.params["conv_kernel"])]
    biases, value = conv_choices(kernel)
    largest = c.tables["conv"]["scale"].iloc[-1]
    text = (
        f"W_Q = W_K = 0, so every score is p_{{i-j}} alone, the same for every input; {biases}; W_V = sum(w) = {value}. "
        f"The softmax over j then puts weight w_m / sum(w) exactly on the tap at offset i - j = r - m (r = "
        f"{(len(kernel) - 1) // 2}) and 0 elsewhere, and W_V undoes the normalisation, so every interior output is "
        "sum_m w_m x_{i+m-r}, the convolution, which needs every w_m >= 0 because softmax weights are non-negative. "
        "With real-valued p the -inf becomes a large penalty -C, and the layer approximates the convolution with "
        "|y_i - Conv1D_i| <= 2 m max|x| e^-C (m the off-kernel positions of the row), which vanishes as C grows; at "
        "the ends the softmax renormalises over the taps inside the sequence, the boundary the question excludes. "
        f"Checked against `F.conv1d` on {int(m['conv.samples']):,} random sequences: the exact layer's interior error is "
        f"{m['conv.exact_max_error_interior']:.3g} (float rounding), and for C up to {largest:g} the penalty version "
        f"stays within its bound ({int(m['conv.penalty_violations'])} violations)."
    )
    numbers = (
        (run_label("largest interior error, exact construction"), f"{m['conv.exact_max_error_interior']:.3g}"),
        (run_label("cases above 2 m max|x| e^-C"), _int(m["conv.penalty_violations"])),
        (run_label("random sequences"), _int(m["conv.samples"])),
    )
    return Answer(text, numbers, link=CONV)


def maxpool(ctx: ReportContext) -> Answer:
    m = checks(ctx).metrics
    k = int(m["maxpool.k"])
    text = (
        "W_Q = W_K = sqrt(C) for a large C > 0 (so W_Q W_K / sqrt(d_k) = C with d_k = 1), W_V = 1, and p_r = 0 for "
        "|r| <= k and -inf (in practice a large negative number) for |r| > k. "
        "The scores inside the window are C x_i x_j, increasing in x_j when x_i > 0, so the softmax concentrates on the "
        "window's largest x_j as C grows and y_i tends to the window maximum M_i; each weight is at most "
        "e^{-C x_i (M_i - x_j)}, which bounds the gap by M_i - y_i <= 2k / (e C x_i). "
        "The approximation needs x_i > 0: at x_i = 0 every score is 0 and the layer returns the window mean. "
        f"Checked against `F.max_pool1d` (window {2 * k + 1}) on {int(m['maxpool.samples']):,} random sequences in (0, 1]: "
        f"no output exceeds its bound ({int(m['maxpool.violations'])} violations, largest error / bound "
        f"{m['maxpool.max_ratio']:.3g}), and at x_i = 0 the output is {m['maxpool.zero_centre_output']:.4f} against a window "
        f"mean of {m['maxpool.zero_centre_window_mean']:.4f}."
    )
    numbers = (
        (run_label("cases above 2k / (e C x_i)"), _int(m["maxpool.violations"])),
        (run_label("largest error / bound"), f"{m['maxpool.max_ratio']:.3g}"),
        (run_label("output at x_i = 0"), f"{m['maxpool.zero_centre_output']:.4f}"),
        (run_label("window mean at x_i = 0"), f"{m['maxpool.zero_centre_window_mean']:.4f}"),
    )
    return Answer(text, numbers, link=MAXPOOL)


# ------------------------------------------------------------------- cells and counts (2021/2022)


def cell_code(cell: str, description: str) -> AnswerFunction:
    """A22-P1.1a / A21-P1.1a: a cell of `pipeline/translators/models/cells.py` (`cell` is a key of `CELLS`), shown
    with its `description` and its weight count at each (D, H) `written_checks` built it at. The two rows differ
    only in the cell and its description."""

    def answer(ctx: ReportContext) -> Answer:
        from pipeline.translators.models import cells  # here: the report stays free of torch until answered

        encoders = checks(ctx).tables["encoder_counts"]
        return Answer(
            description,
            tuple(
                (run_label(f"weights without biases, D = {r.D}, H = {r.H}"), _int(getattr(r, f"{cell}_cell")))
                for r in encoders.itertuples()
            ),
            code=(getattr(cells, f"{CELLS[cell]}Cell"),),
            link=ENCODERS,
        )

    return answer


gru_cell = cell_code(
    "gru",
    "`GRUCell` keeps the input projections of all three gates in one `Linear(D, 3H)` (every bias is there) and the "
    "hidden-state weights in an (H, 2H) matrix for z and r and an (H, H) one for the candidate, which reads r * h, "
    "the erratum's order: z = sigmoid(W_iz x + W_hz h + b_z), r = sigmoid(W_ir x + W_hr h + b_r), "
    "h~ = tanh(W_in x + b_n + W_hn (r * h)), h' = (1 - z) * h + z * h~ (`torch.lerp`). "
    "The tests (`tests/studies/recurrent/test_cells.py`) compare it with `torch.nn.GRUCell`, whose weights are mapped "
    "across where the two conventions coincide.",
)
lstm_cell = cell_code(
    "lstm",
    "`LSTMCell` keeps the input projections of the four gates in one `Linear(D, 4H)` (each gate's two bias vectors "
    "folded into its one) and the hidden-state weights in one (H, 4H) matrix: i = sigmoid(W_ii x + W_hi h + b_i), "
    "f and o likewise, g = tanh(W_ig x + W_hg h + b_g), c' = f * c + i * g, h' = o * tanh(c'). "
    "Its forget-gate bias starts at 1 (the docstring says why); the tests (`tests/studies/recurrent/test_cells.py`) "
    "compare its step with `torch.nn.LSTMCell` given the same weights.",
)


def encoder_parameters(ctx: ReportContext) -> Answer:
    encoders = checks(ctx).tables["encoder_counts"]
    equal = all((r.gru == r.gru_formula == r.gru_cell) and (r.lstm == r.lstm_formula == r.lstm_cell) for r in encoders.itertuples())
    sizes = ", ".join(f"({r.D}, {r.H})" for r in encoders.itertuples())
    text = (
        "Without biases or the embedding an LSTM encoder has 4H(D + H) parameters and a GRU encoder 3H(D + H), for any "
        f"V and K ({'the same' if equal else 'NOT the same'} counts on `nn.LSTM`/`nn.GRU` and on our cells at (D, H) = {sizes})."
    )
    numbers = tuple(
        (run_label(f"{name}, D = {r.D}, H = {r.H}"), _int(getattr(r, key)))
        for r in encoders.itertuples()
        for name, key in (("nn.LSTM weights", "lstm"), ("nn.GRU weights", "gru"))
    )
    return Answer(text, numbers, link=ENCODERS)


def _interpretation() -> str:
    return (
        "Reading a cell's units as its H state units (K H once unrolled over K steps) and a connection as one multiply-add "
        "of a unit's value with a weight, counted each time a shared weight is used over the K steps, biases and the "
        "embedding left out"
    )


def _sizes(table: pd.DataFrame, cell: str) -> str:
    rows = table[table["cell"] == cell]
    return ", ".join(f"({r.K}, {r.D}, {r.H}{f', {r.V}' if 'V' in table.columns else ''})" for r in rows.itertuples())


def _all_equal(table: pd.DataFrame, cell: str) -> bool:
    rows = table[table["cell"] == cell]
    measured = [c for c in rows.columns if f"{c}_formula" in rows.columns]
    return all((rows[c] == rows[f"{c}_formula"]).all() for c in measured)


def encoder_units(ctx: ReportContext) -> Answer:
    table = checks(ctx).tables["encoder_network"]
    lstm = table[table["cell"] == "lstm"]
    text = (
        f"{_interpretation()}: the LSTM encoder has H LSTM units (K H over the sequence) and 4H(D + H) weights, used "
        "once per step, so 4KH(D + H) connections; K enters only through the unrolling. "
        f"Counted on `RNNEncoder` (embedding resized to D) at (K, D, H) = {_sizes(lstm.drop(columns='V'), 'lstm')}: units, "
        f"weights and multiply-adds {'all equal' if _all_equal(table, 'lstm') else 'do NOT all equal'} the formulas."
    )
    numbers = tuple(
        (run_label(f"{what}, K = {r.K}, D = {r.D}, H = {r.H}"), _int(getattr(r, key)))
        for r in lstm.itertuples()
        for what, key in (("unrolled units", "unrolled_units"), ("connections", "connections"))
    )
    return Answer(text, numbers, link=NETWORKS)


def decoder_units(version: str) -> AnswerFunction:
    cell = VERSION_CELL[version]
    gates = {"gru": 3, "lstm": 4}[cell]

    def answer(ctx: ReportContext) -> Answer:
        table = checks(ctx).tables["decoder_network"]
        rows = table[table["cell"] == cell]
        largest = rows.iloc[-1]
        saved = int(largest["connections"] - largest["implementation_connections"])
        text = (
            f"{_interpretation()}, with the decoder cell reading [embedding; context] (D + H) as `RNNAttentionDecoder` "
            f"does and the output layer counted: this version's {CELLS[cell]} decoder has H units (the question's "
            f'"LSTM units"; K H over K output '
            f"steps) and {gates}H(D + 2H) + 2H^2 + H + HV weights (cell, attention MLP W_1: 2H -> H and W_2: H -> 1, output). "
            f"Its connections are K[{gates}H(D + 2H) + HV] + K^2(2H^2 + 2H): at each of the K steps the cell makes "
            f"{gates}H(D + 2H) and the output layer HV, the score MLP reads each of the K pairs [s_(t-1); h_j] "
            "(2H^2 + H) and the context sums the K annotations (H each). "
            f"Counted on `AttentionRNNDecoder` at (K, D, H, V) = {_sizes(rows, cell)}, running the notebooks' per-pair "
            f"computation with its weights (same logits): units, weights and multiply-adds "
            f"{'all equal' if _all_equal(table, cell) else 'do NOT all equal'} the formulas. "
            "Our `AdditiveAttention` computes W_1's annotation half once per word, so its own forward pass makes "
            f"2K(K - 1)H^2 fewer ({saved:,} at K = {int(largest['K'])}, H = {int(largest['H'])})."
        )
        numbers = tuple(
            (run_label(f"{what}, {CELLS[cell]}, K = {r.K}, D = {r.D}, H = {r.H}, V = {r.V}"), _int(getattr(r, key)))
            for r in rows.itertuples()
            for what, key in (
                ("weights", "weights"),
                ("unrolled units", "unrolled_units"),
                ("connections", "connections"),
                ("multiply-adds of our implementation", "implementation_connections"),
            )
        )
        return Answer(text, numbers, link=NETWORKS)

    return answer


def additive_attention(ctx: ReportContext) -> Answer:
    from pipeline.translators.models.recurrent import AdditiveAttention

    decoders = checks(ctx).tables["decoder_network"]
    difference = float(decoders["max_logit_difference"].max())
    return Answer(
        "With Q_t the decoder's previous state and K_i the encoder annotations (also the values): "
        "(1) alpha~_i^(t) = f(Q_t, K_i) = W2 ReLU(W1 [Q_t; K_i] + b1) + b2, W1: 2H -> H and W2: H -> 1; "
        "(2) alpha_i^(t) = softmax_i(alpha~^(t)) = exp(alpha~_i^(t)) / sum_j exp(alpha~_j^(t)), in [0, 1] and summing to 1 "
        "over the source positions; (3) c_t = sum_i alpha_i^(t) K_i. "
        "Our `AdditiveAttention` splits W1 [Q_t; K_i] into W1_q Q_t + W1_k K_i and computes the K_i half once per word; "
        f"run against the notebooks' per-pair computation with the same weights, the decoder's logits differ by at most "
        f"{difference:.2g} (float32 rounding).",
        ((run_label("largest logit difference, notebooks' computation vs ours"), f"{difference:.2g}"),),
        code=(AdditiveAttention,),
        link=ADDITIVE,
    )


# ------------------------------------------------------------------- MLP vs RNN (homework 3)


def classifier_readings(ctx: ReportContext) -> pd.DataFrame:
    """Each published figure beside every reading the stage counted (network, L, logits, layers, biases)."""
    return ctx.memo("written:published_matches", lambda: published_matches(checks(ctx).tables["classifier_counts"], published(ctx)))


def _count(table: pd.DataFrame, **where) -> int:
    rows = table
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return int(rows["parameters"].iloc[0])


def classifier_counts(length_index: int) -> AnswerFunction:
    def answer(ctx: ReportContext) -> Answer:
        c = checks(ctx)
        table, figures = c.tables["classifier_counts"], published(ctx)
        length = int(sorted(table["L"].unique())[length_index])
        matches = classifier_readings(ctx).set_index(["network", "L"])["matches"]
        mlp, rnn = figures["mlp"].get(length), figures["rnn"].get(length)
        at = table[table["L"] == length]
        mlp_1, mlp_2 = _count(at, network="mlp", logits=1), _count(at, network="mlp", logits=2)
        textbook = {o: _count(at, network="rnn", layers=2, biases="one per layer", logits=o) for o in (1, 2)}
        torch_counts = {o: _count(at, network="rnn", layers=2, biases="torch", logits=o) for o in (1, 2)}
        single = {o: _count(at, network="rnn", layers=1, biases="torch", logits=o) for o in (1, 2)}
        text = (
            f"For {length}-token sentences the homework's published answer is MLP {mlp:,} (about {round(mlp, -3) // 1000:,} "
            f"thousand) and RNN {rnn:,} (about {round(rnn, -3) // 1000:,} thousand) parameters, embedding not counted. "
            f"Counting every reading on torch modules, {mlp:,} is the {matches.get(('mlp', length), 'none')} "
            f"(one logit: {mlp_1:,}), and {rnn:,} is the {matches.get(('rnn', length), 'none')} "
            f"(one logit: {textbook[1]:,}). "
            f"Torch's own count of that RNN keeps both bias vectors of each layer: {torch_counts[2]:,} with two logits, "
            f"{torch_counts[1]:,} with one; a single-layer `nn.RNN(100, 256)` would have {single[2]:,} or {single[1]:,}."
        )
        numbers = (
            ("published MLP (homework write-up)", f"{mlp:,}"),
            ("published RNN (homework write-up)", f"{rnn:,}"),
            (run_label(f"MLP, L = {length}, 2 logits / 1 logit"), f"{mlp_2:,} / {mlp_1:,}"),
            (run_label("2-layer nn.RNN, one bias per layer, 2 logits / 1 logit"), f"{textbook[2]:,} / {textbook[1]:,}"),
            (run_label("2-layer nn.RNN, torch's two biases, 2 logits / 1 logit"), f"{torch_counts[2]:,} / {torch_counts[1]:,}"),
            (run_label("1-layer nn.RNN, torch's two biases, 2 logits / 1 logit"), f"{single[2]:,} / {single[1]:,}"),
        )
        return Answer(text, numbers, link=CLASSIFIERS)

    return answer


def classifier_choice(ctx: ReportContext) -> Answer:
    table = checks(ctx).tables["classifier_counts"]
    chosen = table[(table["logits"] == 2) & ((table["network"] == "mlp") | ((table["layers"] == 2) & (table["biases"] == "one per layer")))]
    lengths = sorted(chosen["L"].unique())
    mlp = {length: _count(chosen, network="mlp", L=length) for length in lengths}
    rnn = {length: _count(chosen, network="rnn", L=length) for length in lengths}
    short, long = lengths[0], lengths[-1]
    text = (
        f"The MLP's first layer reads all L x 100 embedded inputs, so its size grows with the sentence: {mlp[short]:,} "
        f"parameters at {short} tokens, {mlp[long]:,} at {long} ({mlp[long] / mlp[short]:.1f}x), and it only reads "
        "sentences of the one length it was built for. "
        f"The RNN reuses the same weights at every step, so it has {rnn[short]:,} parameters at any length (the MLP is "
        f"{mlp[short] / rnn[short]:.1f}x its size at {short} tokens and {mlp[long] / rnn[long]:.1f}x at {long}) and it reads "
        "sentences of any length. "
        "For long or variable-length input the RNN is the economical choice (and shares what it learns across positions); "
        "the MLP is an option only for short inputs of a fixed length, where it also avoids the RNN's sequential, "
        "step-by-step computation."
    )
    numbers = tuple(
        (run_label(f"{name}, L = {length}, 2 logits"), f"{counts[length]:,}")
        for name, counts in (("MLP", mlp), ("2-layer RNN, one bias per layer", rnn))
        for length in lengths
    )
    return Answer(text, numbers, link=CLASSIFIERS)


ANSWERS: dict[str, AnswerFunction] = {
    "A25-1.1.1": relu_unit_weights,
    "A25-1.1.2": relu_weights,
    "A25-1.2.1": sigmoid_jacobian,
    "A25-1.3.1": conv,
    "A25-1.3.2": maxpool,
    "A22-P1.1a": gru_cell,
    "A21-P1.1a": lstm_cell,
    "A22-P1.3": encoder_parameters,
    "A21-P1.3": encoder_units,
    "A22-P2.1.1": additive_attention,
    "A21-P2.1": additive_attention,
    "A22-P2.1.4": decoder_units("A22"),
    "A21-P2.4": decoder_units("A21"),
    "HW3-3.1a": classifier_counts(0),
    "HW3-3.1b": classifier_counts(-1),
    "HW3-3.1c": classifier_choice,
}
