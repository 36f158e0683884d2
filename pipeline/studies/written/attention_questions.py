"""The recurrent-translator questions of the 2021/2022 handouts, answered on the study's own models.

Connections: in an RNN decoder without attention the source reaches the decoder once,
through the encoder's final state; with additive attention each of the K decoder steps
reads every one of the K encoder annotations, K x K direct connections. Counted here with
autograd: the annotations are fed to the decoder as a leaf tensor (the initial state
detached from them), and a (step, annotation) pair is connected when that step's logits
have a non-zero gradient with respect to that annotation.

Time per training step with and without attention, at the same hidden size and on the
same batch: attention adds, at every decoder step, a score MLP over all source positions,
a softmax and a weighted sum, and widens the cell's input to 2H.
"""

from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from pipeline.studies.recurrent.models import AttentionRNNTranslator, RecurrentConfig, RNNTranslator

VOCAB_SIZE = 30  # a character vocabulary's size; any works


def connection_counts(lengths: list[int], hidden: int, seed: int) -> pd.DataFrame:
    """One row per K: measured direct (decoder step, annotation) connections with and without attention."""
    rows = []
    for k in lengths:
        torch.manual_seed(seed + k)
        source = torch.randint(VOCAB_SIZE, (1, k))
        decoder_input = torch.randint(VOCAB_SIZE, (1, k))
        counts = {}
        for name, model_class in (("rnn", RNNTranslator), ("attention", AttentionRNNTranslator)):
            model = model_class(RecurrentConfig(vocab_size=VOCAB_SIZE, hidden_size=hidden, cell="gru"))
            annotations, state = model.encoder(source)
            annotations = annotations.detach().requires_grad_(True)  # (1, K, H), a leaf
            state = tuple(s.detach() for s in state)  # the final-state handoff, counted apart
            logits = model.decoder(decoder_input, annotations, state)  # (1, K, V)
            connected = 0
            for step in range(k):
                (gradient,) = torch.autograd.grad(logits[0, step].sum(), annotations, retain_graph=True, allow_unused=True)
                if gradient is not None:
                    connected += int((gradient[0].abs().sum(-1) > 0).sum())
            counts[name] = connected
        rows.append({"K": k, "rnn": counts["rnn"], "attention": counts["attention"], "K_squared": k * k})
    return pd.DataFrame(rows)


def connection_failures(table: pd.DataFrame) -> list[str]:
    return [
        f"connections: K={row.K}: attention {row.attention} (expected K^2 = {row.K_squared}), rnn {row.rnn} (expected 0)"
        for row in table.itertuples()
        if row.attention != row.K_squared or row.rnn != 0
    ]


def step_seconds(hidden: int, length: int, batch: int, repeats: int, seed: int) -> pd.DataFrame:
    """Median seconds of one training step (forward, backward) of each decoder on one batch."""
    torch.manual_seed(seed)
    source = torch.randint(VOCAB_SIZE, (batch, length))
    decoder_input = torch.randint(VOCAB_SIZE, (batch, length))
    target = torch.randint(VOCAB_SIZE, (batch, length))
    rows = []
    for name, model_class in (("rnn", RNNTranslator), ("attention", AttentionRNNTranslator)):
        model = model_class(RecurrentConfig(vocab_size=VOCAB_SIZE, hidden_size=hidden, cell="gru"))
        times = []
        for _ in range(repeats + 1):  # the first step warms up allocators
            started = time.perf_counter()
            loss = F.cross_entropy(model(source, decoder_input).flatten(0, 1), target.flatten())
            loss.backward()
            times.append(time.perf_counter() - started)
        rows.append({"decoder": name, "hidden": hidden, "K": length, "batch": batch,
                     "seconds_per_step": float(pd.Series(times[1:]).median()),
                     "parameters": sum(p.numel() for p in model.parameters())})
    table = pd.DataFrame(rows)
    table["ratio_to_rnn"] = table["seconds_per_step"] / table.loc[table["decoder"] == "rnn", "seconds_per_step"].iloc[0]
    return table
