"""A plain LSTM word-level language model with the ``enas-rnn`` child's interface and knobs.

Embedding (whole words dropped, ``dropout_words``), variational dropout on the embedded input
(``dropout_embedding``), on ``h_{t-1}`` into each layer's recurrent weights (``dropout_hidden``; also
between stacked layers, as AWD-LSTM's ``dropouth``) and on the last layer's outputs
(``dropout_output``), one mask per sequence as in ``_rnn_net``; a linear decoder tied to the
embedding when ``tie_weights`` (all but the LSTM layers is ``_lm_net.WordLanguageModel``). The
recurrence is written out step by step (not ``nn.LSTM``) so the hidden-state dropout is the same
variational mask the ENAS cell gets, and one step exports to ONNX as the ENAS child does.

The state travels as one tensor ``(batch, size)`` with ``size = 2 * num_layers * hidden_size``
(each layer's ``h`` then ``c``): ``run_state(x, hidden) -> (logits, hidden)`` and ``init_hidden``
are those of ``RnnChild``, so the language trainer, the samples and the one-step export
(``OneStep``) take either network unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from searchcore.spaces._lm_net import Dropouts, WordLanguageModel, unroll, variational


class LstmLanguageModel(WordLanguageModel):
    """Embedding -> ``num_layers`` LSTM layers over time -> (tied) decoder."""

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        def layers() -> dict[str, nn.Module]:
            return {"w_ih": nn.ModuleList(nn.Linear(hidden_size, 4 * hidden_size) for _ in range(num_layers)),
                    "w_hh": nn.ModuleList(nn.Linear(hidden_size, 4 * hidden_size, bias=False)
                                          for _ in range(num_layers))}

        # the packed (h, c) state of every layer: width 2 * num_layers * hidden_size
        super().__init__(vocab_size, hidden_size, 2 * num_layers * hidden_size, dropouts, tie_weights, layers)
        self.num_layers = num_layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_state(x)[0]

    def run_state(self, x: torch.Tensor, hidden: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(seq_len, batch, vocab)`` and the packed state ``(batch, size)`` after the last step."""
        return self.run(x, None, hidden)

    def _recur(self, emb: torch.Tensor, arch: None, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch = state.shape[0]
        layers = state.view(batch, self.num_layers, 2, self.hidden_size)
        out, states = emb, []
        for layer in range(self.num_layers):
            if layer:
                out = variational(out, self.dropouts.hidden, self.training)
            out, h, c = self._layer(layer, out, layers[:, layer, 0], layers[:, layer, 1])
            states.append(torch.stack((h, c), dim=1))
        return out, torch.stack(states, dim=1).reshape(batch, self.size)

    def _layer(self, layer: int, inputs: torch.Tensor, h: torch.Tensor, c: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One LSTM layer over the sequence; the input projection of every step at once."""
        h_mask = self._hidden_mask(h)

        def step(x_t: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor]
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
            h, c = hc
            h_in = h if h_mask is None else h * h_mask
            i, f, g, o = (x_t + self.w_hh[layer](h_in)).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            return h, (h, c)

        out, (h, c) = unroll(self.w_ih[layer](inputs), (h, c), step)
        return out, h, c


__all__ = ["LstmLanguageModel"]
