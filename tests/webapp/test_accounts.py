from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError

from webapp.accounts.services import (
    create_user,
    current_token,
    regenerate_token,
    token_from_header,
    user_for_token,
)

pytestmark = pytest.mark.django_db


def test_create_user_checks_password_and_duplicates() -> None:
    create_user("alice", "correct-horse-42")
    with pytest.raises(ValidationError) as err:
        create_user("ALICE", "short")
    assert set(err.value.message_dict) == {"username", "password"}


def test_create_user_requires_a_name() -> None:
    with pytest.raises(ValidationError) as err:
        create_user("  ", "correct-horse-42")
    assert "username" in err.value.message_dict


def test_token_is_stored_hashed_and_finds_its_user(user) -> None:
    assert current_token(user) is None
    key = regenerate_token(user)
    assert len(key) == 40
    stored = current_token(user)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and stored.prefix == key[:8]
    assert key not in {stored.key_hash, stored.prefix}
    assert user_for_token(key) == user
    assert user_for_token(stored.key_hash) is None  # a leaked database row is not a key
    assert user_for_token("nope") is None


def test_regenerated_token_replaces_the_old_one(user) -> None:
    old = regenerate_token(user)
    new = regenerate_token(user)
    assert new != old and user_for_token(old) is None and user_for_token(new) == user


def test_inactive_users_tokens_do_not_authenticate(user) -> None:
    key = regenerate_token(user)
    user.is_active = False
    user.save()
    assert user_for_token(key) is None


@pytest.mark.parametrize(
    ("header", "key"),
    [("Token abc", "abc"), ("token  abc ", "abc"), ("Bearer abc", None), ("Token", None), (None, None)],
)
def test_token_header_parsing(header, key) -> None:
    assert token_from_header(header) == key
