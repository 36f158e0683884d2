"""DVC stage `train_decoder_only`: the decoder-only translator with the reference settings.

    python -m stages.train_decoder_only
"""

from __future__ import annotations

from pipeline.errors import run_cli
from pipeline.params import load_params
from pipeline.paths import project_root, resume_dir, run_curve_file, run_metrics_file, run_output_dir
from pipeline.translator_stage import config_fingerprint, prepared_data, stop_on_sigterm

EXPERIMENT = "nmt-decoder-only"
STUDY = "decoder_only"


def main() -> None:
    params = load_params()
    run, name = params.decoder_only.run, params.decoder_only.run_name
    root = project_root()
    data_dir = prepared_data(root, run.dataset)

    from pipeline.flops import FlopCounter
    from pipeline.nmt import DECODER_ONLY
    from pipeline.nmt_experiment import train_seq2seq_run
    from pipeline.vocab import VOCAB

    stop_on_sigterm()
    fingerprint = config_fingerprint(root, params, run, data_dir, __file__)
    train_seq2seq_run(
        name=name,
        run=run,
        params=params,
        data_dir=data_dir,
        experiment=EXPERIMENT,
        output_dir=root / run_output_dir(STUDY, name),
        metrics_file=root / run_metrics_file(STUDY, name),
        curve_file=root / run_curve_file(STUDY, name),
        state_dir=resume_dir(STUDY, name, fingerprint),
        fingerprint=fingerprint,
        stage="train_decoder_only",
        architecture=DECODER_ONLY,
        flop_counter=FlopCounter(run.hidden_size, run.num_layers, len(VOCAB)),
    )


if __name__ == "__main__":
    run_cli(main)
