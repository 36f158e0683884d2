"""Answers to the "show your implementation" rows that no study owns: the attention modules and
the decoder-only translator of `pipeline/translators/`, used by several studies.

The sheet prints the source of the objects in `code` as it is at report time. The numbers
here are the code's own output on a tiny example, computed at report time (no run needed):
what the text says the code does, shown once.
"""

from __future__ import annotations

import torch

from pipeline.reporting import Answer, AnswerFunction, ReportContext
from pipeline.studies import decoder_only, transformer
from pipeline.translators.batching import LengthBucketBatcher
from pipeline.translators.models.attention import CausalScaledDotAttention, ScaledDotAttention
from pipeline.translators.models.transformer import DecoderOnlyLayer, DecoderOnlyTransformer
from pipeline.translators.pairs import Pair
from pipeline.translators.single_sequence import (
    DecoderOnlyBatch,
    _greedy_continue,
    as_decoder_only,
    decoder_only_loss,
    greedy_translate_words,
)
from pipeline.translators.vocab import Vocabulary

ATTENTION_TESTS = "tests/translators/test_attention.py"
DECODER_ONLY_TESTS = "tests/translators/test_single_sequence.py"


def transformer_heading() -> str:
    return f"Transformer encoder-decoder (MLflow experiment `{transformer.STUDY.experiment}`)"


def decoder_only_heading() -> str:
    return f"Decoder-only translator (MLflow experiment `{decoder_only.STUDY.experiment}`)"


def shape(tensor: torch.Tensor) -> str:
    return "(" + ", ".join(str(size) for size in tensor.shape) + ")"


def scaled_dot_attention(ctx: ReportContext) -> Answer:
    batch, queries, keys, hidden = 2, 3, 5, 8
    attention = ScaledDotAttention(hidden)
    key_values = torch.zeros(batch, keys, hidden)  # only the shapes are shown
    with torch.no_grad():
        one_query = attention(torch.zeros(batch, hidden), key_values, key_values)  # (B, H)
        many_queries = attention(torch.zeros(batch, queries, hidden), key_values, key_values)  # (B, k, H)
    return Answer(
        text=(
            "`ScaledDotAttention.forward` projects queries, keys and values with three `Linear(h, h)` layers and, "
            "instead of spelling out `bmm` and softmax, hands them to torch's fused `scaled_dot_product_attention`, "
            "which computes softmax(Q Kᵀ/√h) V for the whole batch as batched matrix products (its default scale "
            "1/√h uses the query dimension h). A 3-D query (B, k, h) gives k contexts (B, k, h); a 2-D query (B, h) "
            "is unsqueezed to (B, 1, h), attends as one position and is squeezed back to (B, h). "
            f"`{ATTENTION_TESTS}::test_scaled_dot_attention_matches_hand_computation_3d` compares the module with a "
            "hand-written `@`-and-softmax computation and with `torch.nn.functional.scaled_dot_product_attention`, and "
            f"`{ATTENTION_TESTS}::test_scaled_dot_attention_2d_queries_equal_3d_with_one_query` checks a 2-D query "
            "against the same query as a 3-D one."
        ),
        numbers=(
            (
                f"context shape for a 2-D query {shape(torch.empty(batch, hidden))}, keys {shape(key_values)} (computed at report time)",
                shape(one_query),
            ),
            (
                f"context shape for a 3-D query {shape(torch.empty(batch, queries, hidden))}, keys {shape(key_values)} "
                "(computed at report time)",
                shape(many_queries),
            ),
        ),
        code=(ScaledDotAttention,),
        link=transformer_heading(),
    )


def causal_scaled_dot_attention(ctx: ReportContext) -> Answer:
    queries, keys = 2, 4
    visible = CausalScaledDotAttention(8)._mask(queries, keys, torch.device("cpu"))  # (Tq, Tk)
    return Answer(
        text=(
            "`CausalScaledDotAttention` is `ScaledDotAttention` built with `causal=True`: with as many queries as "
            "keys, `forward` (shown under A25-2.1.1) passes `is_causal=True` to `scaled_dot_product_attention`, which "
            "sets the scores of later positions to -inf before the softmax so they get weight 0, the effect of adding "
            "`self.neg_inf` above the diagonal. With fewer queries than keys (decoding one token at a time) `_mask` "
            "builds the boolean mask with `tril(diagonal=Tk - Tq)`, so each query, one of the last Tq positions, "
            f"sees the keys up to its own position. `{ATTENTION_TESTS}::test_causal_attention_matches_masked_softmax` "
            "compares the module with a softmax masked by hand, and "
            f"`{ATTENTION_TESTS}::test_causal_attention_future_does_not_leak` checks that changing later inputs "
            "leaves earlier outputs unchanged."
        ),
        numbers=(
            (f"`_mask` for {queries} queries over {keys} keys (1 = may attend; computed at report time)", str(visible.int().tolist())),
        ),
        code=(CausalScaledDotAttention, ScaledDotAttention._mask),
        link=transformer_heading(),
    )


def example_layout() -> tuple[Vocabulary, DecoderOnlyBatch]:
    """The sequences `as_decoder_only` makes of one pair, `ab` -> `abway`."""
    vocab = Vocabulary("abwy")
    (batch,) = LengthBucketBatcher([Pair("ab", "abway")], vocab, batch_size=1, seed=0, shuffle=False).batches()
    return vocab, as_decoder_only(batch, vocab)


def spelled(vocab: Vocabulary, ids: torch.Tensor) -> str:
    return " ".join(vocab.tokens[i] for i in ids.tolist())


def decoder_only_tensors(ctx: ReportContext) -> Answer:
    vocab, laid_out = example_layout()
    return Answer(
        text=(
            "The project's `generate_tensors_for_training_decoder_nmt` is `as_decoder_only`: from a length-bucketed "
            "batch (source + `<EOS>`, `<SOS>` + target, target + `<EOS>`) it drops the encoder's `<EOS>` and the "
            "decoder's `<SOS>` and concatenates along time `<SOS> source <EOP> target` as the decoder input and "
            "`source <EOP> target <EOS>` as the decoder target, the input shifted left by one. The pairs of a batch "
            "share one source length and one target length, so nothing is padded, and `prompt_length` (source "
            f"length + 2) marks where the loss starts. `{DECODER_ONLY_TESTS}::test_sequence_layout_matches_the_assignment` "
            "checks the layout token by token."
        ),
        numbers=(
            ("decoder input for the pair `ab` -> `abway` (computed at report time)", spelled(vocab, laid_out.tokens[0])),
            ("decoder target for the same pair", spelled(vocab, laid_out.target[0])),
        ),
        code=(as_decoder_only,),
        link=decoder_only_heading(),
    )


def decoder_only_forward(ctx: ReportContext) -> Answer:
    vocab, laid_out = example_layout()
    counted = laid_out.target[0, laid_out.prompt_length - 1 :]  # what decoder_only_loss keeps
    return Answer(
        text=(
            "`DecoderOnlyTransformer.forward` embeds the tokens, adds the sinusoidal position table and runs the "
            "`DecoderOnlyLayer`s (causal self-attention, then an MLP, each with a residual connection) before a linear "
            "layer gives next-token logits (B, T, V) at every position. `decoder_only_loss` keeps the logits from the "
            "`<EOP>` position on, so the cross-entropy counts only the translation and `<EOS>`, under teacher forcing. "
            "At test time `greedy_translate_words` feeds `<SOS> word <EOP>` and `_greedy_continue` appends the most "
            "likely token until every word has produced `<EOS>` or `max_len` tokens. "
            f"`{DECODER_ONLY_TESTS}::test_loss_counts_only_positions_from_eop_on` checks the loss mask against one "
            f"found by value, and `{DECODER_ONLY_TESTS}::test_batched_greedy_translation_matches_one_word_at_a_time` "
            "checks the batched decoding against a plain one-word loop."
        ),
        numbers=(
            (
                "positions the loss counts for `ab` -> `abway`, of all positions (computed at report time)",
                f"{laid_out.num_target_tokens} of {laid_out.tokens.size(1)}",
            ),
            ("targets at those positions", spelled(vocab, counted)),
        ),
        code=(DecoderOnlyTransformer, DecoderOnlyLayer, decoder_only_loss, greedy_translate_words, _greedy_continue),
        link=decoder_only_heading(),
    )


ANSWERS: dict[str, AnswerFunction] = {
    "A25-2.1.1": scaled_dot_attention,
    "A25-2.1.2": causal_scaled_dot_attention,
    "A25-2.2.1": decoder_only_tensors,
    "A25-2.2.2": decoder_only_forward,
}
