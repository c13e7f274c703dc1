"""Account services: the pages (sign-up form) and the scripts call these, views stay thin."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from webapp.accounts.models import ApiToken, hash_key, new_key

logger = logging.getLogger(__name__)


def create_user(username: str, password: str, email: str = "") -> AbstractBaseUser:
    """Create a user after Django's password validation; raises ``ValidationError`` (field -> msgs)."""
    User = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["This field is required."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(username=username, email=email, password=password)
    logger.info("created user %s", username)
    return user


def current_token(user: AbstractBaseUser) -> ApiToken | None:
    """The user's token record (its hash and prefix; the key itself is not kept), if one was made."""
    return ApiToken.objects.filter(user=user).first()


def regenerate_token(user: AbstractBaseUser) -> str:
    """Make a new key for ``user`` (the old one stops working) and return it: the only time it is seen."""
    key = new_key()
    fields = {"key_hash": hash_key(key), "prefix": key[:8]}
    try:
        with transaction.atomic():
            ApiToken.objects.update_or_create(user=user, defaults=fields)
    except IntegrityError:  # a concurrent first token for this user won the insert: replace it
        ApiToken.objects.filter(user=user).update(**fields)
    return key


def user_for_token(key: str) -> AbstractBaseUser | None:
    """The active user owning ``key``, or ``None``."""
    if not key:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


def token_from_header(value: str | None) -> str | None:
    """``"Token <key>"`` -> ``<key>``; anything else -> ``None``."""
    if not value:
        return None
    scheme, _, key = value.strip().partition(" ")
    if scheme.lower() != "token" or not key.strip():
        return None
    return key.strip()
