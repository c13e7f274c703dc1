"""The helpers the spaces share (``spaces/_fixed.py``, ``spaces/_common.py``): a one-network space's
architecture JSON and refusals, and the language spaces' named overrides and task check, with the
exact messages each space gave before the helpers existed."""

from __future__ import annotations

import pytest
import torch

from searchcore.spaces import TaskSpec, create_space

FIXED = [("resnet20", "block", "basic"), ("lstm", "cell", "lstm")]
LANGUAGE_TASK = TaskSpec.language(20, 3)


@pytest.mark.parametrize(("name", "field", "value"), FIXED)
def test_a_fixed_space_has_one_architecture_and_refuses_anything_else(name, field, value):
    space = create_space(name)
    arch = space.from_decisions([])
    assert space.decisions() == [] and space.to_decisions(arch) == [] and not space.has_supernet
    assert space.arch_to_json(arch) == {"space": name, field: value}
    assert space.arch_from_json({"space": name, field: value}) == arch
    with pytest.raises(ValueError, match=f"a {name} architecture has '{field}': '{value}', not 'other'"):
        space.arch_from_json({"space": name, field: "other"})
    with pytest.raises(ValueError, match=f"a {name} architecture has no field\\(s\\) extra"):
        space.arch_from_json({"space": name, field: value, "extra": 1})
    with pytest.raises(ValueError, match=f"architecture is for space 'nb201', not '{name}'"):
        space.arch_from_json({"space": "nb201", field: value})
    with pytest.raises(ValueError):
        space.from_decisions([0])
    with pytest.raises(NotImplementedError, match=f"the {name} space is one fixed network"):
        space.build_supernet(TaskSpec.image(3, 8, 10))


@pytest.mark.parametrize(("name", "options"), [("enas-rnn", {"num_nodes": 2}), ("nas-rl-rnn", {"leaves": 2}),
                                               ("lstm", {})])
def test_language_overrides_keep_the_options_and_refuse_a_bad_size_or_task(name, options):
    space = create_space(name, hidden_size=8, **options)
    arch = space.sample_random(torch.Generator().manual_seed(0))
    child = space.build_child(arch, LANGUAGE_TASK, hidden_size=None, dropout_words=0.5)
    assert child.encoder.embedding_dim == 8 and child.dropouts.words == 0.5 and child.dropouts.hidden == 0.25
    assert space.build_child(arch, LANGUAGE_TASK, hidden_size=6).encoder.embedding_dim == 6
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match=f"hidden_size must be a positive integer, not {bad!r}"):
            space.build_child(arch, LANGUAGE_TASK, hidden_size=bad)
    with pytest.raises(ValueError, match=f"the {name} space builds language models; this task is image"):
        space.build_child(arch, TaskSpec.image(3, 8, 10))
    with pytest.raises(TypeError):
        space.build_child(arch, LANGUAGE_TASK, drop_path=0.1)


def test_the_lstm_space_also_refuses_a_bad_layer_count():
    space = create_space("lstm", hidden_size=8)
    with pytest.raises(ValueError, match="num_layers must be a positive integer, not 0"):
        space.build_child(space.from_decisions([]), LANGUAGE_TASK, num_layers=0)
