from __future__ import annotations

import re

import pytest

from searchcore.spaces import list_spaces, space_class
from webapp.datasets.models import Dataset
from webapp.searches.models import Search


def _post(dataset, **overrides):
    data = {"name": "d1", "dataset": str(dataset.pk) if dataset else "", "space": "enas-micro",
            "controller": "reinforce", "evaluator": "shared", "budget_kind": "time", "budget_value": "2",
            "budget_unit": "m", "final_value": "1", "final_unit": "m",
            "opt-enas-micro-ops": ["sep3", "max3"], "opt-enas-micro-num_nodes": "2",
            "opt-enas-micro-cells_per_stage": "1", "opt-enas-micro-channels": "8"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_designer_renders_every_registered_space_and_option(client_a, dataset):
    html = client_a.get("/searches/new").content.decode()
    for name in list_spaces():
        assert f'data-space="{name}"' in html
        for spec in space_class(name).option_specs():
            assert f'name="opt-{name}-{spec.name}"' in html, (name, spec.name)
            if spec.type == "multichoice":
                for choice in spec.choices:
                    assert f'name="opt-{name}-{spec.name}" value="{choice}"' in html
            if spec.type == "int" and spec.maximum is not None:
                assert f'max="{spec.maximum}"' in html


def test_designer_offers_only_ready_datasets(client_a, alice, dataset):
    Dataset.objects.create(owner=alice, name="still-checking")
    html = client_a.get("/searches/new").content.decode()
    assert f'<option value="{dataset.pk}"' in html and "still-checking" not in html


def test_valid_design_starts_a_search(client_a, dataset, _media_and_queue,
                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/searches/new", _post(dataset))
    search = Search.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/searches/{search.pk}/"
    assert search.config["space_options"] == {"ops": ["sep3", "max3"], "num_nodes": 2, "cells_per_stage": 1,
                                              "channels": 8}
    assert search.config["budget_seconds"] == 120
    assert search.config["final"]["budget_seconds"] == 60
    assert _media_and_queue == [("worker.tasks.run_search", [search.pk])]


def test_architecture_budget(client_a, dataset):
    client_a.post("/searches/new", _post(dataset, budget_kind="archs", budget_value="25"))
    assert Search.objects.get().config["max_archs"] == 25


def test_no_op_selected_is_explained_next_to_the_field(client_a, dataset):
    response = client_a.post("/searches/new", _post(dataset, **{"opt-enas-micro-ops": None}))
    assert response.status_code == 400
    html = response.content.decode()
    field = html[html.index('id="field-opt-enas-micro-ops"'):]
    field = field[:field.index('id="field-opt-enas-micro-num_nodes"')]
    assert "select at least one" in field
    assert Search.objects.count() == 0


def test_option_out_of_range(client_a, dataset):
    response = client_a.post("/searches/new", _post(dataset, **{"opt-enas-micro-num_nodes": "99"}))
    html = response.content.decode()
    field = html[html.index('id="field-opt-enas-micro-num_nodes"'):][:1500]
    assert "must be at most" in field


def test_benchmark_evaluator_needs_nb201(client_a, dataset):
    html = client_a.post("/searches/new", _post(dataset, evaluator="benchmark")).content.decode()
    field = html[html.index('id="field-evaluator"'):][:2000]
    assert "nb201" in field and "error" in field
    assert Search.objects.count() == 0


def test_benchmark_on_nb201_needs_no_dataset(client_a):
    data = _post(None, space="nb201", evaluator="benchmark", budget_kind="archs", budget_value="10",
                 **{"opt-nb201-ops": ["nor_conv_3x3", "skip_connect"], "opt-nb201-channels": "16",
                    "opt-nb201-cells_per_stage": "5"})
    response = client_a.post("/searches/new", data)
    assert response.status_code == 302
    assert Search.objects.get().dataset is None


def test_dataset_not_ready_is_explained(client_a, alice, dataset):
    response = client_a.post("/searches/new", _post(None))
    html = response.content.decode()
    assert "Choose a dataset." in html[html.index('id="field-dataset"'):][:1500]
    pending = Dataset.objects.create(owner=alice, name="pending")
    html = client_a.post("/searches/new", _post(pending)).content.decode()
    assert "field-dataset" in html and Search.objects.count() == 0


@pytest.mark.parametrize("value", ["", "0"])
def test_budget_must_be_positive(client_a, dataset, value):
    html = client_a.post("/searches/new", _post(dataset, budget_value=value)).content.decode()
    assert 'class="field invalid" id="field-budget_value"' in html


def test_advanced_final_training_settings_are_prefilled_and_posted(client_a, dataset, _media_and_queue):
    from searchcore.training.settings import FINAL_SCHEMA

    html = client_a.get("/searches/new").content.decode()
    assert 'id="final-advanced"' in html
    for name in ("lr", "drop_path", "cutout"):
        assert f'name="final_{name}" value="{FINAL_SCHEMA[name].default}"' in html, name
    assert FINAL_SCHEMA["batch_size"].default is None  # empty: planned from the budget
    assert re.search(r'name="final_batch_size"[^>]*placeholder="planned"', html)
    assert 'name="final_aux_head"' in html
    post = _post(dataset, final_batch_size="24", final_lr="0.1", final_cutout="8", final_aux_head="on")
    assert client_a.post("/searches/new", post).status_code == 302
    final = Search.objects.get().config["final"]
    assert (final["batch_size"], final["lr"], final["cutout"], final["aux_head"]) == (24, 0.1, 8, True)
    assert final["drop_path"] == FINAL_SCHEMA["drop_path"].default
    assert Search.objects.get().config["batch_size"] is None  # the search's own (planned), not the final one


def test_out_of_range_final_settings_are_refused(client_a, dataset, _media_and_queue):
    response = client_a.post("/searches/new", _post(dataset, final_batch_size="0"))
    assert response.status_code == 400 and not Search.objects.exists()
    assert 'class="field invalid" id="field-final_batch_size"' in response.content.decode()


GRAY_REPORT = {"class_names": ["a", "b"], "counts": {"a": 10, "b": 10}, "image_sizes": {"28x28": 20},
               "modes": {"L": 20}}


@pytest.fixture
def gray_dataset(alice):
    return Dataset.objects.create(owner=alice, name="digits", status=Dataset.READY, report=GRAY_REPORT,
                                  num_classes=2, num_images=20)


def _native_line(html: str, dataset) -> str:
    start = html.index(f'data-help-for="dataset" data-value="{dataset.pk}"')
    return html[start:html.index("</div>", start)]


def test_designer_shows_each_datasets_native_input_as_the_default(client_a, dataset, gray_dataset):
    html = client_a.get(f"/searches/new?dataset={gray_dataset.pk}").content.decode()
    gray = _native_line(html, gray_dataset)
    assert "native: 28×28 grayscale (the default)" in gray and " hidden>" not in gray  # the chosen one
    mixed = _native_line(html, dataset)  # the fixture's report: 32x32 and 40x30 images, no modes
    assert "images of 2 sizes: the default is 32×32 colour" in mixed and " hidden>" in mixed
    assert 'name="image_size"' in html and 'placeholder="native"' in html
    assert '<option value="" selected>native (from the dataset)</option>' in html


def test_designer_leaves_the_input_to_the_dataset_unless_chosen(client_a, gray_dataset):
    assert client_a.post("/searches/new", _post(gray_dataset)).status_code == 302
    config = Search.objects.get().config
    assert (config["image_size"], config["grayscale"]) == (None, None)
    chosen = _post(gray_dataset, image_size="16", grayscale="rgb")
    assert client_a.post("/searches/new", chosen).status_code == 302
    config = Search.objects.latest("pk").config
    assert (config["image_size"], config["grayscale"]) == (16, False)
    response = client_a.post("/searches/new", _post(gray_dataset, image_size="4"))
    assert response.status_code == 400 and Search.objects.count() == 2
    assert 'class="field invalid" id="field-image_size"' in response.content.decode()


def test_edit_and_run_again_keeps_a_chosen_input(client_a, alice, gray_dataset):
    old = Search.objects.create(owner=alice, dataset=gray_dataset, name="old", config={
        "space": "enas-micro", "budget_seconds": 60.0, "image_size": 20, "grayscale": True})
    html = client_a.get(f"/searches/new?from={old.pk}").content.decode()
    assert 'name="image_size" value="20"' in html
    assert '<option value="gray" selected>' in html
