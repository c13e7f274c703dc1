"""Issue 11 item 8: sign-in throttled per user and per IP (shared Redis, 2 web processes), checked
before the password hash; sign-up can be closed."""

from __future__ import annotations

import http.cookiejar
import re
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.test import Client

from tests.security.conftest import LOGIN_FAILURES
from tests.stack import LiveStack


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base_url + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def login(self, username: str, password: str) -> tuple[int, str, float]:
        _, page = self.get("/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(self.base_url + "/login/", data=data,
                                         headers={"Referer": self.base_url + "/login/"})
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=30) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read().decode()
        return status, body, time.monotonic() - started


@pytest.mark.integration
@pytest.mark.slow
def test_wrong_passwords_are_throttled_per_user_before_hashing(guarded_stack: LiveStack) -> None:
    guarded_stack.create_user("victim", "correct-horse-42")
    browser = Browser(guarded_stack.base_url)
    failures = [browser.login("victim", f"wrong-{i}") for i in range(LOGIN_FAILURES)]
    assert all(status == 200 and "correct username and password" in body for status, body, _ in failures)
    hashed = statistics.median(seconds for _, _, seconds in failures)
    throttled = [browser.login("victim", "correct-horse-42") for _ in range(5)]  # even the right one
    assert all(status == 429 and "Too many failed sign-in attempts" in body for status, body, _ in throttled)
    quick = statistics.median(seconds for _, _, seconds in throttled)
    assert quick < hashed / 2, (quick, hashed)  # no password hash behind a throttled answer
    status, _, _ = Browser(guarded_stack.base_url).login("someone-else", "wrong")
    assert status == 200  # other users are not locked out by it


@pytest.mark.integration
@pytest.mark.slow
def test_signup_can_be_closed(guarded_stack: LiveStack) -> None:
    browser = Browser(guarded_stack.base_url)
    status, body = browser.get("/signup/")
    assert status == 403 and "Sign-up is closed" in body
    assert "Create an account" not in browser.get("/login/")[1]


# -- unit level (locmem cache): the per-IP counter, and no hash computed once throttled --------
@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_many_user_names_from_one_ip_are_throttled(settings, fresh_cache, make_user) -> None:
    settings.LOGIN_FAILURES_PER_USER, settings.LOGIN_FAILURES_PER_IP = 100, 4
    make_user("bob")
    client = Client(REMOTE_ADDR="10.0.0.7")
    for i in range(4):
        assert client.post("/login/", {"username": f"guess{i}", "password": "x"}).status_code == 200
    assert client.post("/login/", {"username": "bob", "password": "correct-horse-42"}).status_code == 429
    other_ip = Client(REMOTE_ADDR="10.0.0.8")
    assert other_ip.post("/login/", {"username": "bob", "password": "correct-horse-42"}).status_code == 302


@pytest.mark.django_db
def test_throttled_attempt_computes_no_password_hash(settings, fresh_cache, make_user) -> None:
    settings.LOGIN_FAILURES_PER_USER = 2
    make_user("bob")
    client = Client()
    with mock.patch.object(AbstractBaseUser, "check_password", autospec=True,
                           side_effect=lambda user, raw: False) as check:
        for _ in range(2):
            client.post("/login/", {"username": "bob", "password": "wrong"})
        assert check.call_count == 2
        response = client.post("/login/", {"username": "bob", "password": "wrong"})
        assert response.status_code == 429 and check.call_count == 2


@pytest.mark.django_db
def test_success_clears_the_user_counter(settings, fresh_cache, make_user) -> None:
    settings.LOGIN_FAILURES_PER_USER = 2
    make_user("bob")
    client = Client()
    client.post("/login/", {"username": "bob", "password": "wrong"})
    assert client.post("/login/", {"username": "bob", "password": "correct-horse-42"}).status_code == 302
    client.post("/logout/")
    client.post("/login/", {"username": "bob", "password": "wrong"})
    assert client.post("/login/", {"username": "bob", "password": "correct-horse-42"}).status_code == 302


@pytest.mark.django_db
def test_signup_closed_setting_refuses_the_form(settings, client) -> None:
    from django.contrib.auth import get_user_model

    settings.SIGNUP_OPEN = False
    response = client.post("/signup/", {"username": "carol", "password": "a-long-secret-9",
                                        "password2": "a-long-secret-9"})
    assert response.status_code == 403 and not get_user_model().objects.filter(username="carol").exists()
