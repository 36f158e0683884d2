"""Greedy continuation of prompts by the pretrained causal LM: a task where GPT's architecture fits and BERT's does not.

A causal model is trained to predict each token from the tokens before it, so it can
write text left to right: append the most likely next token, feed the longer text back,
repeat. An encoder like BERT sees the whole sentence at once and is trained to fill in
masked positions; it has no distribution over the *next* token given only the past, so it
cannot continue a prompt this way.

The stage loads the checkpoint of the active set with its own output layer (no
classification head, no fine-tuning), continues each prompt of `gpt.generation`, writes
`metrics/gpt/generation.json` and logs the continuations as the MLflow run `gpt generation`.
"""

from __future__ import annotations

import sys
import time

import pandas as pd
import torch

from pipeline.core.io import write_metrics
from pipeline.core.runtime import seed_everything, select_device
from pipeline.core.tracked_run import TrackedRun
from pipeline.studies.gpt import GENERATION_RUN, GENERATION_STAGE, STUDY
from pipeline.studies.gpt.checkpoints import ResolvedCheckpoint
from pipeline.studies.gpt.model import load_causal_lm
from pipeline.studies.gpt.params import Setup


@torch.no_grad()
def continue_greedily(model: torch.nn.Module, tokenizer, prompt: str, max_new_tokens: int, device: torch.device) -> tuple[str, int]:
    """(the continuation's text, its token count): the argmax token appended, `max_new_tokens` times
    or until the end-of-sequence token."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(device)  # (1, T)
    generated = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        do_sample=False,  # greedy: the most likely token every step, no sampling
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    )
    new = generated[0, ids.shape[1] :]  # (N,) the tokens after the prompt
    return tokenizer.decode(new, skip_special_tokens=True), len(new)


def generate_continuations(params: Setup, checkpoint: ResolvedCheckpoint) -> None:
    config = params.config
    generation = config.generation
    device = select_device(params.shared.device)
    seed_everything(params.shared.seed)  # greedy decoding draws nothing; seeded all the same

    loading = time.perf_counter()
    model, tokenizer = load_causal_lm(checkpoint, config.checkpoint_key)
    model.to(device)
    load_seconds = time.perf_counter() - loading

    paths = STUDY.paths(GENERATION_RUN)
    with TrackedRun(
        STUDY,
        GENERATION_RUN,
        stage=GENERATION_STAGE,
        shared=params.shared,
        dataset="prompts",
        model=checkpoint.description,
        lineage=[paths.metrics_file, paths.timings_file],
        extra_tags={"checkpoint_set": config.checkpoint_set},
        description=f"The pretrained causal LM {checkpoint.description} (no fine-tuning) continues "
        f"{len(generation.prompts)} prompts greedily, up to {generation.max_new_tokens} new tokens each.",
    ) as run:
        run.tracker.log_params({"checkpoint": checkpoint.source, "generation": generation.model_dump(), "device": str(device)})
        started = time.perf_counter()
        rows = []
        for prompt in generation.prompts:
            continuation, tokens = continue_greedily(model, tokenizer, prompt, generation.max_new_tokens, device)
            rows.append({"prompt": prompt, "continuation": continuation, "new_tokens": tokens})
        table = pd.DataFrame(rows)
        metrics = {
            "prompts": len(rows),
            "new_tokens": int(table["new_tokens"].sum()),
            "generation_seconds": round(time.perf_counter() - started, 2),
            "load_seconds": round(load_seconds, 2),
            "continuations": rows,
        }
        with run.outputs(clear=[paths.metrics_file, paths.timings_file]) as out:
            write_metrics(out, paths.metrics_file, metrics)
        run.log_summary(metrics)
        run.tracker.log_table(table, "tables/continuations.json")
    for row in rows:
        print(f"{row['prompt']!r} -> {row['continuation']!r}", file=sys.stderr)
