from __future__ import annotations

import json

import pytest
from django.http import QueryDict

from webapp.designer.catalog import format_size, space_catalog
from webapp.designer.estimate import GPU_SPEEDUP, estimate_epoch, format_duration
from webapp.designer.options import parse_space_options


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("n, text", [(0, "0"), (15625, "15,625"), (130_000_000_000, "1.3 × 10^11"),
                                     (999_999_999, "1.0 × 10^9"), (10**6, "1.0 × 10^6")])
def test_format_size(n, text):
    assert format_size(n) == text


def test_format_duration():
    assert format_duration(0.2) == "under 1 s"
    assert format_duration(42) == "42 s"
    assert format_duration(600) == "10.0 min"
    assert format_duration(7200) == "2.0 h"


def test_catalog_lists_every_space_with_its_option_specs():
    names = [s["name"] for s in space_catalog()]
    assert "nb201" in names and "enas-micro" in names
    nb201 = next(s for s in space_catalog() if s["name"] == "nb201")
    assert nb201["size"] == "15625" and nb201["size_text"] == "15,625"
    assert {o["name"] for o in nb201["options"]} >= {"ops", "channels"}


def test_form_options_are_typed_and_checked():
    specs = [{"name": "ops", "type": "multichoice", "default": ["a", "b"], "choices": ["a", "b", "c"]},
             {"name": "n", "type": "int", "default": 3, "minimum": 2, "maximum": 5},
             {"name": "p", "type": "float", "default": 0.5, "minimum": None, "maximum": None},
             {"name": "aux", "type": "bool", "default": False}]
    data = QueryDict(mutable=True)
    data.setlist("opt-s-ops", ["c", "a"])
    data.update({"opt-s-n": "4", "opt-s-p": "0.25", "opt-s-aux": "on"})
    options, errors = parse_space_options("s", specs, data)
    assert errors == {} and options == {"ops": ["a", "c"], "n": 4, "p": 0.25, "aux": True}
    bad = QueryDict("opt-s-ops=z&opt-s-n=9&opt-s-p=x")
    _, errors = parse_space_options("s", specs, bad)
    assert errors == {"ops": "unknown choice(s): z", "n": "must be at most 5", "p": "enter a number"}


def test_preview_returns_svg_and_size(client_a):
    body = {"space": "nb201", "options": {"ops": ["none", "skip_connect"]}}
    response = _post(client_a, "/designer/preview", body)
    assert response.status_code == 200
    body = response.json()
    assert body["size"] == str(2**6) and body["size_text"] == "64"
    assert body["architecture"]["space"] == "nb201"
    assert len(body["cell_svgs"]) == len(body["cells"]) >= 1
    assert all(svg.lstrip().startswith(("<svg", "<?xml")) and "</svg>" in svg for svg in body["cell_svgs"])


def test_preview_is_a_different_sample_per_seed_but_stable_for_one(client_a):
    def sample(seed):
        body = {"space": "enas-micro", "options": {"num_nodes": 3}, "seed": seed}
        return _post(client_a, "/designer/preview", body).json()

    a, b, c = sample(1), sample(1), sample(2)
    assert a["architecture"] == b["architecture"] and a["architecture"] != c["architecture"]
    assert a["cells"] == ["normal", "reduce"]


def test_preview_explains_bad_options(client_a):
    response = _post(client_a, "/designer/preview", {"space": "enas-micro", "options": {"ops": []}})
    assert response.status_code == 400
    assert response.json()["errors"] == {"ops": "must name at least one choice"}
    assert _post(client_a, "/designer/preview", {"space": "nope"}).json()["errors"]["space"]


@pytest.mark.parametrize("url", ["/designer/preview", "/designer/estimate"])
@pytest.mark.parametrize("body", [b"[]", b"\xff\xfe not utf-8", b'{"space": "nb201", "options": [1]}', b"{"])
def test_bad_bodies_get_a_400_not_a_500(client_a, url, body):
    response = client_a.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_estimate_measures_and_scales_with_the_dataset(client_a, dataset):
    options = {"ops": ["nor_conv_1x1", "skip_connect"], "channels": 4, "cells_per_stage": 1}
    cpu = _post(client_a, "/designer/estimate", {"space": "nb201", "options": options,
                                                 "dataset": dataset.pk, "device": "cpu"}).json()
    assert cpu["measured"] is True and cpu["train_size"] == 16 and cpu["seconds_per_epoch"] > 0
    assert "measured" in cpu["basis"]
    gpu = _post(client_a, "/designer/estimate", {"space": "nb201", "options": options,
                                                 "dataset": dataset.pk, "device": "gpu"}).json()
    assert gpu["measured"] is False and "assumed" in gpu["basis"]
    expected = cpu["seconds_per_epoch"] / GPU_SPEEDUP
    assert gpu["seconds_per_epoch"] == pytest.approx(expected, rel=0.01, abs=2e-4)


def test_estimate_grows_with_train_size():
    options = {"ops": ["nor_conv_1x1"], "channels": 4, "cells_per_stage": 1}
    small = estimate_epoch("nb201", options, train_size=64, controller_steps=0)
    large = estimate_epoch("nb201", options, train_size=6400, controller_steps=0)  # same cached timing
    assert large.seconds_per_epoch == pytest.approx(100 * small.seconds_per_epoch)


def test_estimate_for_benchmark_is_instant(client_a):
    request = {"space": "nb201", "options": {}, "evaluator": "benchmark"}
    body = _post(client_a, "/designer/estimate", request).json()
    assert body["text"] == "instant"


def test_designer_endpoints_do_not_see_other_users_datasets(client, bob, dataset):
    client.force_login(bob)
    request = {"space": "nb201", "options": {"channels": 4, "cells_per_stage": 1}, "dataset": dataset.pk}
    body = _post(client, "/designer/estimate", request).json()
    assert body["assumed_train_size"] is True


@pytest.mark.parametrize("evaluator, field", [("nope", "evaluator"), ("benchmark", "evaluator")])
def test_estimate_refuses_an_evaluator_that_cannot_score_the_space(client_a, evaluator, field):
    options = {"channels": 4, "cells_per_stage": 1}
    request = {"space": "enas-micro", "options": options, "evaluator": evaluator}
    response = _post(client_a, "/designer/estimate", request)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_preview_options_are_checked_by_the_space_schema(client_a):
    body = {"space": "enas-micro", "options": {"ops": [], "num_nodes": "4", "zzz": 1}}
    errors = _post(client_a, "/designer/preview", body).json()["errors"]
    assert set(errors) == {"ops", "num_nodes", "zzz"} and "whole number" in errors["num_nodes"]

