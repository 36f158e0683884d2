"""DVC stage `train_bert@<variant>`: fine-tune one sentence classifier on verbal arithmetic.

    python -m stages.train_bert --variant finetune
"""

from __future__ import annotations

import argparse
import signal

from pipeline.errors import PipelineError, run_cli
from pipeline.params import load_params
from pipeline.paths import PREPARED_ARITHMETIC, bert_curve_file, bert_metrics_file, bert_output_dir, project_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", required=True, help="variant name from bert.variants in params.yaml, e.g. finetune")
    args = parser.parse_args()

    params = load_params()
    config = params.bert
    if args.variant not in config.variants:
        raise PipelineError(f"params.yaml: bert.variants.{args.variant}: no such variant (known: {', '.join(config.variants)})")
    root = project_root()
    data_dir = root / PREPARED_ARITHMETIC
    for split in ("train", "val", "test"):
        if not (data_dir / f"{split}.csv").exists():
            raise PipelineError(f"{data_dir / split}.csv: missing; run `dvc repro prepare_arithmetic` first")

    # Resolve the checkpoint before the heavy imports: a bad name fails in a second, offline.
    from pipeline.bert.checkpoints import resolve

    key = f"bert.checkpoint_sets.{config.checkpoint_set}.{config.variants[args.variant].checkpoint}.source"
    active = config.checkpoint_sets[config.checkpoint_set]
    checkpoint = resolve(config.checkpoint(args.variant), key, active.download, root)

    from pipeline.bert.experiment import train_variant

    # `dvc` stops stages with SIGTERM; as KeyboardInterrupt the MLflow run ends KILLED, not RUNNING.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    train_variant(
        name=args.variant,
        params=params,
        checkpoint=checkpoint,
        checkpoint_key=key,
        data_dir=data_dir,
        output_dir=root / bert_output_dir(args.variant),
        metrics_file=root / bert_metrics_file(args.variant),
        curve_file=root / bert_curve_file(args.variant),
    )


if __name__ == "__main__":
    run_cli(main)
