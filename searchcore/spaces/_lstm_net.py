"""A plain LSTM word-level language model with the ``enas-rnn`` child's interface and knobs.

Embedding (whole words dropped, ``dropout_words``), variational dropout on the embedded input
(``dropout_embedding``), on ``h_{t-1}`` into each layer's recurrent weights (``dropout_hidden``; also
between stacked layers, as AWD-LSTM's ``dropouth``) and on the last layer's outputs
(``dropout_output``), one mask per sequence as in ``_rnn_net``; a linear decoder tied to the
embedding when ``tie_weights``. The recurrence is written out step by step (not ``nn.LSTM``) so
the hidden-state dropout is the same variational mask the ENAS cell gets, and one step exports to
ONNX as the ENAS child does.

The state travels as one tensor ``(batch, size)`` with ``size = 2 * num_layers * hidden_size``
(each layer's ``h`` then ``c``): ``run_state(x, hidden) -> (logits, hidden)`` and ``init_hidden``
are those of ``RnnChild``, so the language trainer, the samples and the one-step export
(``OneStep``) take either network unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.spaces._rnn_net import INIT_RANGE, Dropouts, _mask


class LstmLanguageModel(nn.Module):
    """Embedding -> ``num_layers`` LSTM layers over time -> (tied) decoder."""

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        super().__init__()
        self.hidden_size, self.num_layers, self.dropouts = hidden_size, num_layers, dropouts
        self.size = 2 * num_layers * hidden_size  # width of the packed (h, c) state
        self.encoder = nn.Embedding(vocab_size, hidden_size)
        self.w_ih = nn.ModuleList(nn.Linear(hidden_size, 4 * hidden_size) for _ in range(num_layers))
        self.w_hh = nn.ModuleList(nn.Linear(hidden_size, 4 * hidden_size, bias=False)
                                  for _ in range(num_layers))
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name == "decoder.bias":
                    param.zero_()
                else:
                    param.uniform_(-INIT_RANGE, INIT_RANGE)

    def init_hidden(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        return torch.zeros(batch, self.size, device=device or self.encoder.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_state(x)[0]

    def run_state(self, x: torch.Tensor, hidden: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(seq_len, batch, vocab)`` and the packed state ``(batch, size)`` after the last step."""
        if x.dim() != 2:
            raise ValueError(f"expected token ids of shape (seq_len, batch), got {tuple(x.shape)}")
        batch = x.shape[1]
        state = self.init_hidden(batch, x.device) if hidden is None else hidden
        layers = state.view(batch, self.num_layers, 2, self.hidden_size)
        d = self.dropouts
        out = self._embed(x)
        out = self._masked(out, d.embedding)
        states = []
        for layer in range(self.num_layers):
            if layer:
                out = self._masked(out, d.hidden)
            out, h, c = self._layer(layer, out, layers[:, layer, 0], layers[:, layer, 1])
            states.append(torch.stack((h, c), dim=1))
        out = self._masked(out, d.output)
        return self.decoder(out), torch.stack(states, dim=1).reshape(batch, self.size)

    def _layer(self, layer: int, inputs: torch.Tensor, h: torch.Tensor, c: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One LSTM layer over the sequence; the input projection of every step at once."""
        h_mask = _mask(h, (h.shape[0], self.hidden_size), self.dropouts.hidden, self.training)
        xw = self.w_ih[layer](inputs)
        outputs = []
        for t in range(inputs.shape[0]):
            h_in = h if h_mask is None else h * h_mask
            i, f, g, o = (xw[t] + self.w_hh[layer](h_in)).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs), h, c

    def _masked(self, seq: torch.Tensor, prob: float) -> torch.Tensor:
        """``seq`` (steps, batch, size) times one variational mask per sequence (training only)."""
        mask = _mask(seq, (1, seq.shape[1], seq.shape[2]), prob, self.training)
        return seq if mask is None else seq * mask

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.encoder.weight
        if self.training and self.dropouts.words > 0.0:
            keep = 1.0 - self.dropouts.words
            weight = weight * (weight.new_empty((weight.size(0), 1)).bernoulli_(keep) / keep)
        return F.embedding(x, weight)


__all__ = ["LstmLanguageModel"]
