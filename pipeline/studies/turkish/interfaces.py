"""What each model hands its `self.encoder` and `self.decoder`, with shapes (homework 3.2c).

Read off the code itself: forward hooks on the two modules record the arguments of their
first call while the model runs one teacher-forced training batch of the study's sizes
(`batch_size` pairs, sources of `max_length` tokens, targets one shorter so that S and T
show apart). The recurrent decoder is called once per target step, the Transformer's once
for all of them: the table says how often.

Torch is imported inside the function: the report imports this module.
"""

from __future__ import annotations

import inspect

import pandas as pd

# What each argument is, by the name the called module's `forward` gives it; `shape` is in symbols:
# B batch, S source tokens, T target tokens, E embedding, H hidden, L layers, D transformer width.
MEANINGS = {
    "source": ("Turkish ids, [CLS] ... [SEP], padded with 0", "(B, S)"),
    "lengths": ("real tokens per source sentence (the packed RNN reads no padding)", "(B,)"),
    "token": ("the previous English token: true (teacher forcing) or the model's own guess", "(B,)"),
    "state": ("the recurrent state: the encoder's final one at the first step", "h (L, B, H), and c (L, B, H) for an LSTM"),
    "src": ("source embeddings + sinusoidal positions (`encode` embeds the ids (B, S))", "(B, S, D)"),
    "src_key_padding_mask": ("True at source [PAD]: self-attention reads no padding", "(B, S)"),
    "tgt": ("embeddings + positions of the decoder input: [CLS] + the target shifted right", "(B, T-1, D)"),
    "memory": ("the encoder's output: one vector per source position", "(B, S, D)"),
    "tgt_mask": ("causal mask: -inf above the diagonal, position t reads inputs up to t", "(T-1, T-1)"),
    "tgt_is_causal": ("a hint that tgt_mask is the causal one", "-"),
    "memory_key_padding_mask": ("True at source [PAD]: cross-attention reads no padding", "(B, S)"),
}


def shape(value) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return "(" + ", ".join(str(size) for size in value.shape) + ("," if value.dim() == 1 else "") + ")"
    if isinstance(value, tuple):
        return ", ".join(shape(item) for item in value)
    return repr(value)


def call_table(model, source_length: int, target_length: int, batch_size: int) -> pd.DataFrame:
    """One row per argument of the first `model.encoder(...)` and `model.decoder(...)` call on a random
    teacher-forced batch: the argument's name, measured shape and symbolic shape, and the module's call count."""
    import torch

    from pipeline.studies.turkish.model import make_batch

    generator = torch.Generator().manual_seed(0)
    config = model.config
    sources = torch.randint(5, config.source_vocab, (batch_size, source_length - 2), generator=generator).tolist()
    targets = torch.randint(5, config.target_vocab, (batch_size, target_length - 2), generator=generator).tolist()
    batch = make_batch(
        [[config.start_id, *s, config.end_id] for s in sources],
        [[config.start_id, *t, config.end_id] for t in targets],
        config.pad_id,
        torch.ones(target_length - 1, dtype=torch.bool),
    )
    calls: dict[str, list] = {"encoder": [], "decoder": []}

    def recorder(name: str):
        def hook(module, args, kwargs, output):
            bound = inspect.signature(module.forward).bind(*args, **kwargs)
            calls[name].append((bound.arguments, output))

        return hook

    handles = [getattr(model, name).register_forward_hook(recorder(name), with_kwargs=True) for name in calls]
    try:
        with torch.no_grad():
            model.eval()
            model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)
    finally:
        for handle in handles:
            handle.remove()

    rows = []
    for name, recorded in calls.items():
        arguments, output = recorded[0]
        for argument, value in arguments.items():
            meaning, symbols = MEANINGS.get(argument, ("", ""))
            rows.append(
                {
                    "call": f"self.{name}",
                    "calls per batch": len(recorded),
                    "argument": argument,
                    "shape": shape(value),
                    "as": symbols,
                    "what": meaning,
                }
            )
        rows.append(
            {"call": f"self.{name}", "calls per batch": len(recorded), "argument": "returns", "shape": shape(output), "as": "", "what": ""}
        )
    return pd.DataFrame(rows)
