from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from webapp.datasets.models import Dataset

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"


def _zip(name: str = "tiny.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, FIXTURE.read_bytes(), content_type="application/zip")


def test_empty_state_invites_an_upload(client_a):
    html = client_a.get("/datasets/").content.decode()
    assert "No datasets yet" in html and 'href="/datasets/new"' in html


def test_upload_form_post_redirects_to_the_dataset(client_a, _media_and_queue,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/datasets/new", {"name": "tiny", "file": _zip()})
    dataset = Dataset.objects.get(name="tiny")
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/"
    assert dataset.path.read_bytes() == FIXTURE.read_bytes()
    assert _media_and_queue == [("worker.tasks.validate_dataset", [dataset.pk])]


def test_upload_xhr_gets_json(client_a):
    response = client_a.post("/datasets/new", {"name": "", "file": _zip("cifar.zip")},
                             HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"/datasets/{body['id']}/"
    assert Dataset.objects.get(pk=body["id"]).name == "cifar"


def test_upload_rejects_a_non_archive_with_field_errors(client_a):
    bad = SimpleUploadedFile("x.zip", b"not a zip", content_type="application/zip")
    response = client_a.post("/datasets/new", {"file": bad}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "zip" in response.json()["errors"]["file"][0]
    html = client_a.post("/datasets/new", {"file": bad}).content.decode()
    assert 'class="field invalid" id="field-file"' in html


def test_validating_dataset_polls(client_a, alice):
    d = Dataset.objects.create(owner=alice, name="pending")
    html = client_a.get(f"/datasets/{d.pk}/").content.decode()
    assert f'data-status-url="/datasets/{d.pk}/status"' in html
    assert client_a.get(f"/datasets/{d.pk}/status").json() == {"id": d.pk, "status": "validating"}


def test_health_report(client_a, dataset):
    thumbs = {"cat": ["1_0.png", "1_1.png"], "airplane": ["0_0.png"]}
    dataset.report = {**dataset.report, "thumbnails": thumbs}
    dataset.save()
    html = client_a.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'id="health-report"' in html and 'id="class-chart"' in html
    assert "cat/broken.png" in html and "cannot identify image file" in html
    assert "class cat has only 10 images" in html
    assert "40x30" in html
    assert f'src="/datasets/{dataset.pk}/thumbnails/1_1.png"' in html
    assert f'src="/datasets/{dataset.pk}/thumbnails/0_0.png"' in html
    assert '"split_counts": {"train": {"airplane": 8' in html  # chart data for Plotly


def test_health_report_shows_the_native_input_format(client_a, dataset):
    dataset.report = {**dataset.report, "image_sizes": {"28x28": 20}, "modes": {"L": 19, "1": 1}}
    dataset.save()
    html = client_a.get(f"/datasets/{dataset.pk}/").content.decode()
    line = html[html.index('id="native-input"'):][:200]
    assert "native: 28×28 grayscale (the default)" in line
    modes = html[html.index('id="image-modes"'):][:300]
    assert '<span class="mono">L</span> 19' in modes and '<span class="mono">1</span> 1' in modes
    dataset.report = {**dataset.report, "image_sizes": {"224x224": 20}, "modes": {"RGB": 20}}
    dataset.save()
    html = client_a.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "images are 224×224: the default is 32×32 colour" in html


def test_failed_dataset_explains_why(client_a, alice):
    d = Dataset.objects.create(owner=alice, name="bad", status=Dataset.FAILED, error="No images found.")
    assert "No images found." in client_a.get(f"/datasets/{d.pk}/").content.decode()


def test_thumbnail_served_and_traversal_refused(client_a, dataset):
    (dataset.thumbnails_dir / "cat").mkdir(parents=True)
    (dataset.thumbnails_dir / "cat" / "0.png").write_bytes(b"\x89PNG fake")
    (dataset.directory / "secret.txt").write_text("no")
    dataset.report = {**dataset.report, "thumbnails": {"cat": ["cat/0.png", "../secret.txt"]}}
    dataset.save()
    ok = client_a.get(f"/datasets/{dataset.pk}/thumbnails/cat/0.png")
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"\x89PNG fake"
    assert client_a.get(f"/datasets/{dataset.pk}/thumbnails/../secret.txt").status_code == 404
    assert client_a.get(f"/datasets/{dataset.pk}/thumbnails/cat/9.png").status_code == 404


@pytest.mark.parametrize("suffix", ["", "status", "thumbnails/cat/0.png"])
def test_other_users_dataset_is_404(client, bob, dataset, suffix):
    client.force_login(bob)
    assert client.get(f"/datasets/{dataset.pk}/{suffix}").status_code == 404


def test_list_shows_status_and_link_to_designer(client_a, dataset):
    html = client_a.get("/datasets/").content.decode()
    assert '<span class="badge ready">' in html
    assert f"/searches/new?dataset={dataset.pk}" in html
