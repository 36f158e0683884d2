"""Tiny causal LMs saved locally, loaded by the study the way it loads the real ones (no network).

- `write_tiny_gguf`: a 2-layer LLaMA written as a GGUF file with `gguf.GGUFWriter` (float32
  tensors, a byte-level BPE tokenizer with padding id = <|im_end|>, as SmolLM2's file), from
  a `LlamaForCausalLM` whose weights the test can compare with what the study loads;
- `save_tiny_openai_gpt`: a 2-layer `OpenAIGPTConfig` model + an `OpenAIGPTTokenizer` with
  no padding token (the assignment's checkpoint), saved with `save_pretrained`;
- `save_tiny_bert`: a BERT folder, which the study must refuse (not a causal LM).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pipeline.datasets.arithmetic.data import NUMBER_WORDS

WORDS = NUMBER_WORDS + ["plus", "minus"]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _bpe(words: list[str], prefix: str = "", suffix: str = "", split_teens: bool = False) -> tuple[list[str], list[tuple[str, str]]]:
    """Pieces and left-to-right merges that spell every word as one token (two for a -teen word
    with `split_teens`, so that sentences differ in length as SmolLM2's do)."""
    tokens: list[str] = []
    merges: list[tuple[str, str]] = []
    for word in words:
        pieces = [*([prefix] if prefix else []), *word[:-1], word[-1] + suffix]
        tokens += [p for p in pieces if p not in tokens]
        while len(pieces) > (2 if split_teens and word.endswith("teen") else 1):
            pair = (pieces[0], pieces[1])
            if pair not in merges:
                merges.append(pair)
            pieces = [pair[0] + pair[1], *pieces[2:]]
            if pieces[0] not in tokens:
                tokens.append(pieces[0])
    return tokens, merges


def _llama_permute(weight: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp's rotary layout of a Q/K projection (transformers undoes it when reading GGUF)."""
    return weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def write_tiny_gguf(path: Path, seed: int = 0):
    """A tiny LLaMA as a GGUF file; returns the `LlamaForCausalLM` it was written from."""
    import gguf
    from transformers import LlamaConfig, LlamaForCausalLM

    pieces, merges = _bpe(WORDS, split_teens=True)
    spaced, spaced_merges = _bpe(WORDS, prefix="\u0120", split_teens=True)  # Ġ: a byte-level leading space
    letters = sorted({c for w in WORDS for c in w} | {"\u0120"})
    tokens = SPECIALS + letters + [t for t in pieces + spaced if t not in letters]
    tokens = list(dict.fromkeys(tokens))
    config = LlamaConfig(
        vocab_size=len(tokens),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        rms_norm_eps=1e-5,
        tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(64)
    writer.add_embedding_length(16)
    writer.add_block_count(2)
    writer.add_feed_forward_length(32)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    writer.add_rope_dimension_count(4)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL] * len(SPECIALS) + [gguf.TokenType.NORMAL] * (len(tokens) - len(SPECIALS)))
    writer.add_token_merges([f"{a} {b}" for a, b in spaced_merges + merges])  # Ġword before word: a space joins its word
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_pad_token_id(2)
    writer.add_add_bos_token(False)
    writer.add_tensor("token_embd.weight", state["model.embed_tokens.weight"])
    writer.add_tensor("output_norm.weight", state["model.norm.weight"])
    names = {
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
        "self_attn.o_proj": "attn_output",
        "self_attn.v_proj": "attn_v",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    }
    for layer in range(2):
        hf = f"model.layers.{layer}."
        writer.add_tensor(f"blk.{layer}.attn_q.weight", _llama_permute(state[hf + "self_attn.q_proj.weight"], 4))
        writer.add_tensor(f"blk.{layer}.attn_k.weight", _llama_permute(state[hf + "self_attn.k_proj.weight"], 2))
        for ours, theirs in names.items():
            writer.add_tensor(f"blk.{layer}.{theirs}.weight", state[hf + ours + ".weight"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return model


def save_tiny_openai_gpt(folder: Path, seed: int = 0) -> Path:
    """openai-gpt in small: a BPE tokenizer with `</w>` word ends and no padding token."""
    from transformers import OpenAIGPTConfig, OpenAIGPTLMHeadModel, OpenAIGPTTokenizer

    pieces, merges = _bpe(WORDS, suffix="</w>")
    letters = sorted({c for w in WORDS for c in w[:-1]} | {f"{w[-1]}</w>" for w in WORDS})
    vocab = {token: i for i, token in enumerate(dict.fromkeys(["<unk>", *letters, *pieces]))}
    folder.mkdir(parents=True)
    OpenAIGPTTokenizer(vocab=vocab, merges=merges).save_pretrained(folder)
    config = OpenAIGPTConfig(vocab_size=len(vocab), n_positions=16, n_embd=16, n_layer=2, n_head=2)
    torch.manual_seed(seed)
    OpenAIGPTLMHeadModel(config).save_pretrained(folder)
    return folder


def save_tiny_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    BertModel(config).save_pretrained(folder)
    return folder
