"""The study's encoder-decoders, nanoGPT-style: one file, top-down.

Recurrent (the sister course's reference, `Seq2Seq`): the encoder (embedding, dropout, a
2-layer RNN or LSTM) reads the Turkish ids; its final state (h, and c for an LSTM) is the
decoder's initial state. The decoder emits one token per step from the previous one: in
training the previous *true* token with probability `teacher_forcing` per step (otherwise
its own greedy guess), in evaluation always its own guess. Weights start
U(-init_range, init_range).

Transformer (`TransformerSeq2Seq`, homework question 3.2): torch's `nn.TransformerEncoder`
and `nn.TransformerDecoder` (pre-LayerNorm) over token embeddings plus sinusoidal
positions. The encoder hands the decoder every source position (memory), not one final
state; with full teacher forcing the decoder computes every target position in one pass
under a causal mask, otherwise it steps like the recurrent one. Same interface, so the
training loop, evaluation and decoding are the study's shared ones.

`build(config)` makes either from a `Seq2SeqConfig`. Cross-entropy ignores padding.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from pipeline.translators.models.limits import MAX_POSITIONS
from pipeline.translators.models.transformer import SinusoidalPositionalEncoding

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM}  # the recurrent encoder-decoders' modules
ARCHITECTURES = (*CELLS, "transformer")
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "model.json"


@dataclass(frozen=True)
class Seq2SeqConfig:
    cell: str  # rnn | lstm | transformer
    source_vocab: int
    target_vocab: int
    embedding_dim: int = 256
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.5
    pad_id: int = 0  # source and target padding (BERT-style tokenizers: [PAD] = 0 in both)
    start_id: int = 2  # target [CLS]: the decoder's first input
    end_id: int = 3  # target [SEP]: decoding stops here
    max_length: int = 10  # target tokens, [CLS] and [SEP] included
    # Transformer only: its width (d_model) is hidden_size, and so is its embedding size.
    heads: int = 4
    feedforward_size: int = 256

    def __post_init__(self) -> None:
        if self.cell not in ARCHITECTURES:
            raise ValueError(f"cell must be one of {sorted(ARCHITECTURES)}, got {self.cell!r}")
        if self.cell == "transformer" and self.embedding_dim != self.hidden_size:
            raise ValueError(
                f"a transformer embeds tokens at its width: embedding_dim ({self.embedding_dim}) must equal hidden_size ({self.hidden_size})"
            )


def build(config: Seq2SeqConfig) -> nn.Module:
    return TransformerSeq2Seq(config) if config.cell == "transformer" else Seq2Seq(config)


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def forward(
        self, source: torch.Tensor, source_lengths: torch.Tensor, target: torch.Tensor, teacher_forcing: torch.Tensor
    ) -> torch.Tensor:
        """Logits for target[:, 1:]: (B, T-1, V). `teacher_forcing` (T-1,) bool: step t-1 reads target[:, t-1] when True."""
        state = self.encoder(source, source_lengths)
        token = target[:, 0]  # (B,) [CLS]
        steps = []
        for t in range(1, target.size(1)):
            logits, state = self.decoder(token, state)  # (B, V)
            steps.append(logits)
            token = target[:, t] if teacher_forcing[t - 1] else logits.argmax(-1)
        return torch.stack(steps, dim=1)  # (B, T-1, V)

    @torch.no_grad()
    def generate(self, source: torch.Tensor, source_lengths: torch.Tensor) -> list[list[int]]:
        """Greedy decoding up to `max_length` tokens or [SEP]; the ids between [CLS] and [SEP]."""
        state = self.encoder(source, source_lengths)
        token = torch.full((source.size(0),), self.config.start_id, dtype=torch.long, device=source.device)
        emitted, done = [], torch.zeros_like(token, dtype=torch.bool)
        for _ in range(self.config.max_length - 1):  # [CLS] is the first of max_length tokens
            logits, state = self.decoder(token, state)
            token = logits.argmax(-1)  # (B,)
            emitted.append(token)
            done |= token == self.config.end_id
            if done.all():
                break
        return until_end(torch.stack(emitted, dim=1), self.config.end_id)  # (B, steps) -> lists


def until_end(ids: torch.Tensor, end_id: int) -> list[list[int]]:
    """Each row of emitted ids (B, steps) up to, not including, its first [SEP]."""
    return [row[: row.index(end_id)] if end_id in row else row for row in ids.tolist()]


class Encoder(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.source_vocab, config.embedding_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = CELLS[config.cell](
            config.embedding_dim,
            config.hidden_size,
            config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )

    def forward(self, source: torch.Tensor, lengths: torch.Tensor):
        embedded = self.dropout(self.embedding(source))  # (B, S, E)
        # Packed, so the final state is that of each sentence's last real token, not of padding.
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)  # h (L, B, H), and c (L, B, H) for an LSTM
        return state


class Decoder(nn.Module):
    """One step at a time, so a stack of `nn.LSTMCell`/`nn.RNNCell` rather than one `nn.LSTM`/`nn.RNN`.

    The arithmetic is the same as the multi-layer module's (the same weights, dropout between
    layers but not after the last); a test checks it step by step against `nn.LSTM`/`nn.RNN`. On
    CPU a one-step call of the multi-layer module goes through oneDNN's sequence kernel, whose
    fixed cost weighs at this size. Measured here on one thread, a training step of the default
    model (64 pairs, 2-layer LSTM, 9 decoder steps): 141 ms with `nn.LSTM` steps, 123 ms with cells.
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.is_lstm = config.cell == "lstm"
        self.embedding = nn.Embedding(config.target_vocab, config.embedding_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.between_layers = nn.Dropout(config.dropout if config.num_layers > 1 else 0.0)
        cell = nn.LSTMCell if self.is_lstm else nn.RNNCell
        self.cells = nn.ModuleList(
            cell(config.embedding_dim if layer == 0 else config.hidden_size, config.hidden_size) for layer in range(config.num_layers)
        )
        self.head = nn.Linear(config.hidden_size, config.target_vocab)

    def forward(self, token: torch.Tensor, state):
        """token (B,), state as the encoder returns it (h (L, B, H), and c for an LSTM) -> logits (B, V), new state."""
        x = self.dropout(self.embedding(token))  # (B, E)
        h_in, c_in = state if self.is_lstm else (state, None)
        h_out, c_out = [], []
        for layer, cell in enumerate(self.cells):
            if layer > 0:
                x = self.between_layers(x)
            if self.is_lstm:
                h, c = cell(x, (h_in[layer], c_in[layer]))  # (B, H) each
                c_out.append(c)
            else:
                h = cell(x, h_in[layer])  # (B, H)
            h_out.append(h)
            x = h
        new_state = (torch.stack(h_out), torch.stack(c_out)) if self.is_lstm else torch.stack(h_out)  # (L, B, H)
        return self.head(x), new_state  # (B, V)


class TransformerSeq2Seq(nn.Module):
    """A Transformer encoder-decoder with `Seq2Seq`'s interface (homework question 3.2).

    What crosses from encoder to decoder is the whole encoded source, `memory` (B, S, D),
    read by every decoder layer's cross-attention, where the recurrent model passes one
    final state (L, B, H). Pre-LayerNorm layers (`norm_first`) train stably without a
    learning-rate warm-up, which a run of a few dozen epochs has no room for.
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        width = config.hidden_size
        self.source_embedding = nn.Embedding(config.source_vocab, width, padding_idx=config.pad_id)
        self.target_embedding = nn.Embedding(config.target_vocab, width, padding_idx=config.pad_id)
        self.positions = SinusoidalPositionalEncoding(width, MAX_POSITIONS)  # any length up to 256: no table to learn
        self.dropout = nn.Dropout(config.dropout)
        layer = dict(
            d_model=width,
            nhead=config.heads,
            dim_feedforward=config.feedforward_size,
            dropout=config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(**layer), config.num_layers, norm=nn.LayerNorm(width), enable_nested_tensor=False
        )
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), config.num_layers, norm=nn.LayerNorm(width))
        self.head = nn.Linear(width, config.target_vocab)

    def forward(
        self, source: torch.Tensor, source_lengths: torch.Tensor, target: torch.Tensor, teacher_forcing: torch.Tensor
    ) -> torch.Tensor:
        """Logits for target[:, 1:]: (B, T-1, V), as `Seq2Seq.forward` (the lengths are read off the padding instead)."""
        memory, source_padding = self.encode(source)  # (B, S, D), (B, S)
        if bool(teacher_forcing.all()):
            # Every input is the true previous token, known in advance: all T-1 steps in one pass.
            return self.decode(target[:, :-1], memory, source_padding)  # (B, T-1, V)
        inputs, steps = target[:, :1], []  # (B, 1) [CLS]
        for t in range(1, target.size(1)):
            logits = self.decode(inputs, memory, source_padding)[:, -1]  # (B, V): the newest position
            steps.append(logits)
            token = target[:, t] if teacher_forcing[t - 1] else logits.argmax(-1)  # (B,)
            inputs = torch.cat([inputs, token[:, None]], dim=1)  # (B, t+1)
        return torch.stack(steps, dim=1)  # (B, T-1, V)

    def encode(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """source (B, S) ids -> memory (B, S, D) and the source key padding mask (B, S), True at [PAD]."""
        source_padding = source == self.config.pad_id  # (B, S): attention never reads these keys
        x = self.dropout(self.positions(self.source_embedding(source)))  # (B, S, D)
        return self.encoder(x, src_key_padding_mask=source_padding), source_padding

    def decode(self, inputs: torch.Tensor, memory: torch.Tensor, source_padding: torch.Tensor) -> torch.Tensor:
        """inputs (B, T) from [CLS] on -> logits (B, T, V); position t reads inputs[:, :t+1] and the whole memory.

        No target padding mask: padding only ever follows a sentence's tokens, the causal mask keeps
        every real position from reading it, and the loss ignores the padded positions' outputs.
        """
        causal = nn.Transformer.generate_square_subsequent_mask(inputs.size(1), device=inputs.device)  # (T, T): -inf above the diagonal
        x = self.dropout(self.positions(self.target_embedding(inputs)))  # (B, T, D)
        x = self.decoder(x, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=source_padding)  # (B, T, D)
        return self.head(x)  # (B, T, V)

    @torch.no_grad()
    def generate(self, source: torch.Tensor, source_lengths: torch.Tensor) -> list[list[int]]:
        """Greedy decoding up to `max_length` tokens or [SEP], as `Seq2Seq.generate`.

        Each step reruns the decoder over the whole prefix (torch's decoder keeps no cache of
        earlier positions), so step t costs O(t) where the recurrent decoder's costs O(1).
        """
        memory, source_padding = self.encode(source)
        inputs = torch.full((source.size(0), 1), self.config.start_id, dtype=torch.long, device=source.device)  # (B, 1)
        done = torch.zeros(source.size(0), dtype=torch.bool, device=source.device)
        for _ in range(self.config.max_length - 1):
            token = self.decode(inputs, memory, source_padding)[:, -1].argmax(-1)  # (B,)
            inputs = torch.cat([inputs, token[:, None]], dim=1)
            done |= token == self.config.end_id
            if done.all():
                break
        return until_end(inputs[:, 1:], self.config.end_id)


def init_xavier(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """Every matrix ~ Xavier-uniform, as `nn.Transformer` initialises itself; LayerNorms stay at (1, 0),
    biases at torch's defaults. (U(-0.08, 0.08) on every parameter would zero the LayerNorm gains.)"""
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                nn.init.xavier_uniform_(parameter, generator=generator)


def init_uniform(model: nn.Module, bound: float, generator: torch.Generator | None = None) -> None:
    """Every weight and bias ~ U(-bound, bound), the reference's initialisation."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.uniform_(-bound, bound, generator=generator)


def initialise(model: nn.Module, init_range: float, generator: torch.Generator | None = None) -> None:
    """The recurrent models as the reference (U(-init_range, init_range)), the transformer as torch's."""
    if isinstance(model, TransformerSeq2Seq):
        init_xavier(model, generator)
    else:
        init_uniform(model, init_range, generator)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- batches


@dataclass
class PairBatch:
    source: torch.Tensor  # (B, S) Turkish ids, padded
    source_lengths: torch.Tensor  # (B,)
    target: torch.Tensor  # (B, T) English ids, [CLS] ... [SEP], padded
    teacher_forcing: torch.Tensor  # (T-1,) bool: which decoder steps read the true previous token

    def to(self, device: torch.device) -> PairBatch:
        return PairBatch(self.source.to(device), self.source_lengths, self.target.to(device), self.teacher_forcing)

    def __len__(self) -> int:
        return self.source.size(0)


def pad(sequences: list[list[int]], pad_id: int) -> torch.Tensor:
    width = max(len(s) for s in sequences)
    return torch.tensor([s + [pad_id] * (width - len(s)) for s in sequences], dtype=torch.long)


def make_batch(sources: list[list[int]], targets: list[list[int]], pad_id: int, teacher_forcing: torch.Tensor | None = None) -> PairBatch:
    target = pad(targets, pad_id)
    forcing = teacher_forcing if teacher_forcing is not None else torch.zeros(target.size(1) - 1, dtype=torch.bool)
    return PairBatch(pad(sources, pad_id), torch.tensor([len(s) for s in sources]), target, forcing[: target.size(1) - 1])


def sequence_loss(model: Seq2Seq | TransformerSeq2Seq, batch: PairBatch) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the batch's real target tokens (after [CLS]), and their number."""
    logits = model(batch.source, batch.source_lengths, batch.target, batch.teacher_forcing)  # (B, T-1, V)
    gold = batch.target[:, 1:]  # (B, T-1)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), gold.reshape(-1), ignore_index=model.config.pad_id)
    return loss, int((gold != model.config.pad_id).sum())


# ------------------------------------------------------------------------ save / load


def save(folder: Path, model: Seq2Seq | TransformerSeq2Seq) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(asdict(model.config), indent=2) + "\n")


def load(folder: Path, device: torch.device | str = "cpu") -> Seq2Seq | TransformerSeq2Seq:
    from safetensors.torch import load_file

    model = build(Seq2SeqConfig(**json.loads((Path(folder) / CONFIG_FILE).read_text())))
    model.load_state_dict(load_file(str(Path(folder) / WEIGHTS_FILE)))
    return model.to(device).eval()
