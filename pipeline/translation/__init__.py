"""Shared translation machinery: every translator study trains and evaluates through it.

- `vocab`: a vocabulary loaded per dataset (`vocab.json` beside the prepared pairs)
- `pairs`: prepared `source target` files
- `batching`: length-bucketed batches (no padding), seeded per (seed, epoch)
- `models/`: the attention module and the transformer models (nanoGPT-style)
- `encoder_decoder`, `decoder_only`: each architecture's batch layout, loss and greedy decoding
- `decoding`: greedy decoding of many words, grouped by length
- `architectures`: the registry, evaluation, sentence translation, checkpoints
- `flops`: parameter and FLOP accounting (the IsoFLOP study)
- `params`: the schema of one training run and of the shared evaluation
- `run`: the one translator training run (train, evaluate, write outputs, track)
"""
