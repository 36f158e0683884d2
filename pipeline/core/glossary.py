"""What the less obvious metric names mean where several studies log them.

Each study's `Study(metrics=...)` (in its package) gathers the entries that apply to it,
these and its own; `Study.experiment_description` writes them into the MLflow
experiment's Description, so the UI reads without the README.
"""

from __future__ import annotations


def fit_loop(unit: str) -> dict[str, str]:
    """What the shared training loop logs every epoch besides the losses and `lr`
    (`callbacks.epoch_metrics`); `unit` is what one loss term is in the study."""
    return {
        "iterations": "optimizer steps so far (cumulative)",
        "tokens": f"training {unit} seen so far (cumulative): the unit the losses average over",
        "epoch_seconds": "wall time of the epoch, training and validation",
    }


# Every character-level translator (studies transformer, decoder_only, recurrent, isoflop).
TRANSLATOR: dict[str, str] = {
    **fit_loop("target characters"),
    "val_loss": "validation cross-entropy per target character, each batch weighted by its characters (ours)",
    "val_loss_batch_mean": "the assignment notebooks' validation loss: the mean of per-batch mean losses "
    "(`val_loss` is ours, weighted by characters); the published ranges are in this definition",
    "best_val_loss": "the lowest per-epoch `val_loss`; the weights of that epoch (`best_epoch`) are the ones kept",
    "best_val_loss_batch_mean": "the lowest per-epoch `val_loss_batch_mean`: what the report compares with the published ranges",
    "val_word_accuracy": "share of validation words whose greedy translation is exactly right (kept weights)",
    "val_targets_over_max_len": "validation targets longer than the decoding limit (`piglatin.eval.max_decode_len`): "
    "they can never be matched, so they cap `val_word_accuracy`",
    "train_tokens": "target characters trained on over the whole run",
    "tokens_per_second": "training throughput, target characters per second",
    "stopped_early": "1 if training stopped `patience` epochs after the best `val_loss`, before the last epoch",
}

# Translators trained with FLOP accounting (the decoder-only run and the IsoFLOP grid).
FLOP_COUNTED: dict[str, str] = {
    "cumulative_flops": "training FLOPs so far, counted per batch with the assignment's formula "
    "(training = 3 x forward, embeddings excluded)",
    "cumulative_tokens": "training sequence positions so far, counted with the FLOPs",
    "val_loss_by_flops": "`val_loss` logged again with step = cumulative training FLOPs: comparing runs overlays "
    "their loss-versus-compute curves",
    "non_embedding_parameters": "N of the scaling laws: the assignment's parameter count, embeddings excluded",
    "flops_per_second": "training FLOPs per second of training",
    "stopped_at_flop_budget": "1 if training ended because `isoflop.stop_at_flops` FLOPs were spent",
}

# The sentence classifiers on verbal arithmetic (studies bert and gpt).
CLASSIFIER: dict[str, str] = {
    **fit_loop("sentences"),
    "val_accuracy": "share of validation sentences classified right, after each epoch",
    "best_val_accuracy": "the highest per-epoch `val_accuracy`",
    "test_accuracy": "accuracy of the trained classifier (last epoch's weights) on the test split",
    "trainable_parameters": "parameters the optimiser updates (only the classification head when the encoder is frozen)",
    "truncated_sentences": "sentences of the splits longer than `recipe.max_length` tokens, cut to it (0 expected)",
}
