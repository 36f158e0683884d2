"""Every question of the four assignment versions, by id, in the order of the assignment's question list.

The ids are the assignment's (stable); the titles are ours. `form` is what the question asks
to be handed in ("code" in it means the implementing source must be shown). Sentence limits
come from each deliverable: "at most 3 sentences" -> max 3; "1-2 + 1-2 sentences" -> 2 to 4
in total; "fewer than 3" -> max 2; "at least 5" -> min 5; "1 sentence" -> exactly 1. A row
that repeats an earlier question names it in `same_as`: with no answer of its own, it
reuses that one (under its own id and its own limit).
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONS = {"A25": "2025 handout", "A22": "2022 version", "A21": "2021 version", "HW3": "Sister course's homework 3"}


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    form: str
    max_sentences: int | None = None
    min_sentences: int | None = None
    same_as: str | None = None

    @property
    def version(self) -> str:
        return VERSIONS[self.id.split("-")[0]]

    @property
    def asks_for_code(self) -> bool:
        return "code" in self.form

    @property
    def is_presentation(self) -> bool:
        """A GEN row: a requirement on the whole write-up, answered from the finished sheet."""
        return self.id.endswith("-GEN")

    def limit(self) -> str:
        low, high = self.min_sentences, self.max_sentences
        if low is None and high is None:
            return "none stated"
        if low == high:
            return f"exactly {high}"
        if low is None:
            return f"at most {high}"
        if high is None:
            return f"at least {low}"
        return f"{low} to {high}"

    def within_limit(self, sentences: int) -> bool:
        return (self.min_sentences is None or sentences >= self.min_sentences) and (
            self.max_sentences is None or sentences <= self.max_sentences
        )


def parse_questions(table: str) -> list[Question]:
    """The questions of `table`, one a line: `id | title | form`, then optionally its sentence limit in the
    words `Question.limit` prints (`at most 3`, `2 to 4`, `exactly 1`, `at least 5`) and `same as <id>`.
    Blank lines and `#` lines (a version's heading) are skipped."""
    questions = []
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        question_id, title, form, *extra = (cell.strip() for cell in line.split("|"))
        low = high = same_as = None
        for cell in extra:
            match cell.split():
                case ["same", "as", earlier]:
                    same_as = earlier
                case ["at", "most", n]:
                    high = int(n)
                case ["at", "least", n]:
                    low = int(n)
                case ["exactly", n]:
                    low = high = int(n)
                case [a, "to", b]:
                    low, high = int(a), int(b)
                case _:
                    raise ValueError(f"question {question_id}: cannot read {cell!r}")
        questions.append(Question(question_id, title, form, max_sentences=high, min_sentences=low, same_as=same_as))
    return questions


QUESTIONS: list[Question] = parse_questions("""
# 2025 handout
A25-1.1.1 | ReLU chain with unit weights: is the input gradient bounded by 1? | written proof
A25-1.1.2 | ReLU chain with weights w_i: gradient bounds, and whether vanishing/exploding is forced | written derivation
A25-1.2.1 | Sigmoid recurrence with sigma_max(W) = 1/4: the (1/16)^(n-1) Jacobian bound | written proof
A25-1.3.1 | Relative-position attention that reproduces Conv1D with kernel [2, 0, 1] | written: values and argument
A25-1.3.2 | Relative-position attention that approximates max-pooling over 2k+1 positions | written: values and argument
A25-2.1.1 | Scaled dot-product attention, forward pass for 2-D and 3-D queries | code
A25-2.1.2 | Causal scaled dot-product attention, forward pass | code
A25-2.1.3 | Why sinusoidal positional encodings, and why not one-hot positions | written | 2 to 4
A25-2.1.4a | Transformer at hidden 32/64 on small/large data: two loss plots, four lowest validation losses | 2 plots and 4 numbers
A25-2.1.4b | How model size and dataset size change the loss curves and generalisation | written | at most 6
A25-2.2.1 | Decoder-only training tensors: `<SOS> source <EOP> target` and its shifted target | code
A25-2.2.2 | Decoder-only transformer forward pass, loss from `<EOP>` on | code
A25-2.2.3a | Decoder-only translations against the encoder-decoder transformer's | written comparison, translations, losses
A25-2.2.3b | Pros and cons of translating with a decoder only | written
A25-2.3.1a | Validation loss against training FLOPs, one curve per model size | plot
A25-2.3.1b | What the loss-vs-FLOPs plot shows; is the bigger model always lower? | written | at most 3
A25-2.3.2 | IsoFLOP profiles: quadratic in log parameters, the optimum per budget | code and fitted profiles
A25-2.3.3 | Compute-optimal model size: line fit, N_opt at 1e15 FLOPs, and the method | code, number, method
A25-2.3.4 | Compute-optimal tokens: does the decoder-only setup of 2.2 Q3 spend its compute well? | plot and written | at most 3
A25-3.1 | BERT sentence classifier: last-layer [CLS] to three logits | code
A25-3.2 | Full fine-tuning from MathBERT: training loss and validation accuracy | plot
A25-3.3a | Frozen BERT: training time against full fine-tuning, and why | timings and written | 1 to 2
A25-3.3b | Frozen BERT: validation accuracy against full fine-tuning, and why | accuracies and written | 1 to 2
A25-3.4 | BERTweet against MathBERT: validation accuracy and a likely cause | accuracies and written | 2 to 3
A25-3.5 | Inputs one model gets right and the others wrong, and inputs all get wrong | examples
A25-4.1 | Run the CLIP introduction | run only
A25-4.2a | A caption that makes CLIP pick the coral-reef target image | caption and evidence
A25-4.2b | How the caption search went | written | exactly 1
A25-GEN | Presentation: readable answers and code, outputs shown, vectorised code, strict limits | presentation
# 2022 version
A22-P1.1a | GRU cell from scratch, __init__ and forward | code
A22-P1.1b | GRU translator on small vs large data: is one clearly ahead, and why? | plot, losses, written | at most 3
A22-P1.2 | A distinct failure mode of the best GRU translator | examples and written | at most 3
A22-P1.3 | Parameter counts of LSTM and GRU encoders in H, V, D, K | two formulas | at most 1
A22-P2.1.1 | How additive attention computes its weights and context (reading only) | none required
A22-P2.1.2 | A training example the additive-attention decoder gets right and the plain one does not | input/output of both models
A22-P2.1.3 | Training speed with and without attention, and why | timings and written | at most 3
A22-P2.1.4 | LSTM units and connections of the attention decoder in H, V, D, K | formulas
A22-P2.2.1 | Scaled dot-product attention, forward pass | code | same as A25-2.1.1
A22-P2.2.2 | Causal scaled dot-product attention, forward pass | code | same as A25-2.1.2
A22-P2.2.3 | Single-block attention model against the additive-attention RNN, and why | losses and written
A22-P2.2.4 | Why sinusoidal positional encodings, and why not one-hot | written | 2 to 4 | same as A25-2.1.3
A22-P2.2.5 | Transformer h32-small translations against the additive-attention and single-block decoders | translations, losses, written | at most 6
A22-P2.2.6a | Transformer hidden x dataset: two plots, four lowest validation losses | 2 plots and 4 numbers | same as A25-2.1.4a
A22-P2.2.6b | Effects of hidden size and dataset size | written | same as A25-2.1.4b
A22-P2.2.7 | Non-causal decoder attention: what happens in training, and why | result and written
A22-P2.2.8 | One advantage and one disadvantage each of additive and scaled dot-product attention | written
A22-P3.1 | BERT sentence classifier | code | same as A25-3.1
A22-P3.2 | Fine-tuning from MathBERT: training loss and validation accuracy | plot | same as A25-3.2
A22-P3.3a | Frozen BERT: training time, and why | timings and written | 1 to 2 | same as A25-3.3a
A22-P3.3b | Frozen BERT: validation accuracy, and why | accuracies and written | 1 to 2 | same as A25-3.3b
A22-P3.4 | BERTweet against MathBERT | accuracies and written | at most 3 | same as A25-3.4
A22-P3.5 | Inputs where one model wins, and inputs where all fail | examples | same as A25-3.5
A22-P4.1 | Run the CLIP introduction | run only | same as A25-4.1
A22-P4.2a | A caption that makes CLIP pick the butterfly target image | caption
A22-P4.2b | How the caption search went | written | exactly 1 | same as A25-4.2b
A22-GEN | Presentation: typed, strict sentence limits, results that look wrong flagged | presentation
# 2021 version
A21-P1.1a | LSTM cell from scratch, __init__ and forward | code
A21-P1.1b | LSTM translator on small vs large data: is one clearly ahead, and why? | loss plots and written | at most 2
A21-P1.2 | A distinct failure mode of the best translator | examples and written | at most 3 | same as A22-P1.2
A21-P1.3 | LSTM units and connections of the LSTM encoder in H, K, D | formulas
A21-P2.1 | The three equations of additive attention: score, weight, context | three equations
A21-P2.2 | Additive-attention decoder: loss plots, and an example it beats the plain decoder on | plots and input/output pair | same as A22-P2.1.2
A21-P2.3 | Training speed with and without attention, and why | timings and written | same as A22-P2.1.3
A21-P2.4 | LSTM units and connections of the attention decoder | formulas | same as A22-P2.1.4
A21-P3.1 | Scaled dot-product attention, forward pass | code | same as A25-2.1.1
A21-P3.2 | Causal scaled dot-product attention, forward pass | code | same as A25-2.1.2
A21-P3.3 | Why sinusoidal positional encodings, and why not one-hot | written | 2 to 4 | same as A25-2.1.3
A21-P3.4 | Transformer h32-small translations against the RNN decoders with and without attention | translations, losses, written | at most 3
A21-P3.5a | Transformer hidden x dataset: two plots, four lowest validation losses | 2 plots and 4 numbers | same as A25-2.1.4a
A21-P3.5b | Effects of hidden size and dataset size | written | same as A25-2.1.4b
A21-P3.6 | Non-causal decoder attention against the causal model | result and written | at most 3 | same as A22-P2.2.7
A21-P3.7 | Additive vs scaled dot-product attention: an advantage and a disadvantage of each | written | same as A22-P2.2.8
A21-P4.1 | GPT classifier reading the last token's representation | code, one-sentence description, training evidence | at most 1
A21-P4.2 | Frozen vs fine-tuned BERT: training error, test performance, labels that fail | curves, tables, written | at most 4
A21-P4.3 | Fine-tuned GPT vs BERT on ten unseen arithmetic questions | 10 results and written | at most 3
A21-P4.4 | A setting where GPT's architecture suits better than BERT's, and why | written | at most 3
A21-P4.5 | Open extension: what was tried, and preliminary results | written | at most 4
A21-GEN | Presentation: typed, strict sentence limits, results that look wrong flagged | presentation | same as A22-GEN
# homework 3
HW3-1.1 | Why an LSTM should beat a plain RNN on long sequences | written
HW3-1.2-L5 | Add2Digits at length 5, RNN vs LSTM: loss and accuracy curves | 2 graphs
HW3-1.2-L10 | Add2Digits at length 10, RNN vs LSTM: loss and accuracy curves | 2 graphs
HW3-1.2-L30 | Add2Digits at length 30, RNN vs LSTM: loss and accuracy curves | 2 graphs
HW3-1.3 | Does the Add2Digits experiment support the hypothesis; its weaknesses and fixes | written
HW3-2.1 | Turkish -> English RNN encoder-decoder: the code and the loss per epoch | code and plot
HW3-2.2 | Turkish -> English LSTM encoder-decoder: the code and the loss | code and plot
HW3-2.3 | Translation experiments: settings tried, whether the model learns, whether it overfits | settings and loss curves
HW3-2.3.1 | What the translation experiments showed about training and validation loss | 2 plots and written | at least 5
HW3-3.1a | Parameter counts of an MLP and an RNN classifier on 10-token sentences | two numbers
HW3-3.1b | The same two counts on 40-token sentences | two numbers
HW3-3.1c | What the two counts imply for choosing an RNN or an MLP | written
HW3-3.2a | One theoretical advantage of Transformers over LSTMs | written
HW3-3.2b | One theoretical advantage of LSTMs over Transformers | written
HW3-3.2c | The inputs, with shapes, a Transformer encoder and decoder would take in LSTMTranslator | written: tensors and shapes
HW3-GEN | Presentation and reproducibility: only what is asked, outputs reproduced from scratch | presentation
""")

BY_ID: dict[str, Question] = {question.id: question for question in QUESTIONS}
