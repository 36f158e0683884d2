"""The translators: the character-level translator models every Pig Latin study trains and evaluates
through (`translators` names this family of models; a `translation` is always a translated string).

- `vocab`: a vocabulary loaded per dataset (`vocab.json` beside the prepared pairs)
- `pairs`: prepared `source target` files
- `batching`: length-bucketed batches (no padding), seeded per (seed, epoch)
- `models/`: the attention module and the transformer models (nanoGPT-style)
- `encoder_decoder`, `single_sequence`: each architecture's batch layout, loss and greedy decoding (the
  decoder-only translator reads word and translation as one sequence; the name keeps `decoder_only` for the study)
- `decoding`: greedy decoding of many words, grouped by length
- `architectures`: the registry, evaluation, sentence translation, checkpoints
- `flops`: parameter and FLOP accounting (the IsoFLOP study)
- `params`: the schema of one training run and of the shared evaluation
- `train`: the one translator training run (train, evaluate, write outputs, track), keyed by its stage's code
- `benchmark`: training throughput on this machine, shared by the studies' benchmark scripts
"""
