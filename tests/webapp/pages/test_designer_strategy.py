"""The designer's controller and evaluator options (issue 8: PPO's and the scratch evaluator's settings
from the browser), generated from each registered class's schema; only changed values are sent."""

from __future__ import annotations

import pytest

from searchcore.controllers import controller_schema, list_controllers
from searchcore.evaluators import evaluator_schema, list_evaluators
from webapp.searches.models import Search

NAS_RL = {"opt-nas-rl-cnn-num_layers": "3", "opt-nas-rl-cnn-stride": "fixed", "opt-nas-rl-cnn-channels": "4",
          "opt-nas-rl-cnn-filter_heights": ["1", "3"], "opt-nas-rl-cnn-filter_widths": ["3"],
          "opt-nas-rl-cnn-filter_counts": ["24"]}


def _post(dataset, **overrides):
    data = {"name": "nas-rl", "dataset": str(dataset.pk), "space": "nas-rl-cnn", "controller": "ppo",
            "evaluator": "scratch", "budget_kind": "archs", "budget_value": "8", "budget_unit": "m",
            "final_value": "1", "final_unit": "m", **NAS_RL}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_every_controller_and_evaluator_option_has_a_field(client_a, dataset):
    html = client_a.get("/searches/new").content.decode()
    for kind, names, schema, prefix in (("controller", list_controllers(), controller_schema, "ctl"),
                                        ("evaluator", list_evaluators(), evaluator_schema, "ev")):
        for name in names:
            specs = schema(name).options
            if specs:
                assert f'data-kind="{kind}" data-name="{name}"' in html
            for spec in specs:
                assert f'name="{prefix}-{name}-{spec.name}"' in html, (name, spec.name)
    assert 'value="None"' not in html  # an empty (nullable) default renders as an empty box


def test_changed_options_are_sent_and_untouched_ones_are_not(client_a, dataset, _media_and_queue):
    post = _post(dataset, **{"ev-scratch-child_epochs": "2", "ev-scratch-cube_reward": "on",
                             "ev-scratch-augment": "on", "ev-scratch-lr": "0.05",
                             "ctl-ppo-ppo_epochs": "6", "ctl-ppo-clip": "0.2", "ctl-ppo-baseline": "learned"})
    response = client_a.post("/searches/new", post)
    assert response.status_code == 302, response.content.decode()[:3000]
    config = Search.objects.get().config
    assert config["evaluator_options"]["child_epochs"] == 2 and config["evaluator_options"]["cube_reward"]
    assert config["controller_options"]["ppo_epochs"] == 6
    assert config["controller_options"]["baseline"] == "learned"


def test_an_emptied_nullable_option_means_off(client_a, dataset, _media_and_queue):
    post = _post(dataset, **{"ev-scratch-child_epochs": "", "ev-scratch-child_seconds": "30",
                             "ev-scratch-augment": "on"})
    assert client_a.post("/searches/new", post).status_code == 302
    options = Search.objects.get().config["evaluator_options"]
    assert options["child_epochs"] is None and options["child_seconds"] == 30.0


def test_the_options_of_a_strategy_not_chosen_are_ignored(client_a, dataset, _media_and_queue):
    post = _post(dataset, controller="reinforce", evaluator="scratch",
                 **{"ctl-ppo-ppo_epochs": "999", "ev-scratch-augment": "on"})
    assert client_a.post("/searches/new", post).status_code == 302
    assert "ppo_epochs" not in (Search.objects.get().config.get("controller_options") or {})


@pytest.mark.parametrize(("field", "value", "message"), [
    ("ev-scratch-child_epochs", "0", "must be at least 1"),
    ("ev-scratch-lr", "ten", "enter a number"),
    ("ctl-ppo-ppo_epochs", "1000", "must be at most 100"),
    ("ctl-ppo-baseline", "oracle", "choose one of"),
])
def test_a_bad_option_is_explained_beside_its_field_and_nothing_starts(client_a, dataset, field, value,
                                                                        message):
    response = client_a.post("/searches/new", _post(dataset, **{field: value}))
    assert response.status_code == 400 and Search.objects.count() == 0
    html = response.content.decode()
    at = html.index(f'id="field-{field}"')
    assert message in html[at:][:2500] and "invalid" in html[html.rindex("<div", 0, at):][:80]


def test_run_again_prefills_the_strategy_options(client_a, dataset, _media_and_queue):
    post = _post(dataset, **{"ev-scratch-child_epochs": "3", "ev-scratch-augment": "on"})
    assert client_a.post("/searches/new", post).status_code == 302
    search = Search.objects.get()
    html = client_a.get(f"/searches/new?from={search.pk}").content.decode()
    box = html[html.index('id="field-ev-scratch-child_epochs"'):][:1500]
    assert 'value="3"' in box
