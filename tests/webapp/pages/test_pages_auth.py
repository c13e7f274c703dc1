from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from webapp.accounts.models import ApiToken
from webapp.accounts.services import user_for_token

PAGES = ["/datasets/", "/datasets/new", "/searches/", "/searches/new", "/account/", "/datasets/1/",
         "/searches/1/", "/searches/1/results", "/searches/1/graph.svg", "/designer/spaces"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_every_page_needs_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_login_and_signup_pages_are_public(client):
    assert client.get("/login/").status_code == 200
    assert client.get("/signup/").status_code == 200


@pytest.mark.django_db
def test_signup_creates_user_and_logs_in(client):
    response = client.post("/signup/", {"username": "carol", "password": "a-long-secret-9",
                                        "password2": "a-long-secret-9"})
    assert response.status_code == 302 and response["Location"] == "/datasets/"
    assert get_user_model().objects.filter(username="carol").exists()
    assert client.get("/datasets/").status_code == 200


@pytest.mark.django_db
def test_signup_errors_are_shown_next_to_fields(client, alice):
    response = client.post("/signup/", {"username": "alice", "password": "short", "password2": "short"})
    assert response.status_code == 200
    html = response.content.decode()
    username = html[html.index('id="field-username"'):html.index('id="field-password"')]
    assert "already exists" in username
    password = html[html.index('id="field-password"'):html.index('id="field-password2"')]
    assert "at least 8 characters" in password
    html = client.post("/signup/", {"username": "zed", "password": "a-long-secret-9",
                                    "password2": "other-long-secret"}).content.decode()
    assert "The two passwords differ." in html[html.index('id="field-password2"'):]


@pytest.mark.django_db
def test_login_with_wrong_password_says_so(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def _shown_key(html: str) -> str:
    return html.split('id="api-token">', 1)[1].split("<", 1)[0]


def test_account_shows_a_new_token_once(client_a, alice):
    html = client_a.post("/account/", {"action": "regenerate"}).content.decode()
    key = _shown_key(html)
    assert user_for_token(key) == alice
    assert ApiToken.objects.get(user=alice).key_hash != key  # stored hashed
    later = client_a.get("/account/").content.decode()
    assert key not in later and key[:8] in later  # afterwards only its prefix
    new_key = _shown_key(client_a.post("/account/", {"action": "regenerate"}).content.decode())
    assert new_key != key and user_for_token(key) is None and user_for_token(new_key) == alice


def test_logout_is_a_post(client_a):
    response = client_a.post("/logout/")
    assert response.status_code == 302
    assert client_a.get("/searches/").status_code == 302
