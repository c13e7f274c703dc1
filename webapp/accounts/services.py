"""Account services: the pages (sign-up form) and the scripts call these, views stay thin."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from webapp.accounts.models import ApiToken, new_key

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


def get_or_create_token(user: AbstractBaseUser) -> ApiToken:
    """The user's API token, generated on first use."""
    try:
        with transaction.atomic():
            token, _ = ApiToken.objects.get_or_create(user=user)
    except IntegrityError:  # two first uses at once: the other one won
        token = ApiToken.objects.get(user=user)
    return token


def regenerate_token(user: AbstractBaseUser) -> ApiToken:
    token = get_or_create_token(user)
    token.key = new_key()
    token.save(update_fields=["key"])
    return token


def user_for_token(key: str) -> AbstractBaseUser | None:
    """The active user owning ``key``, or ``None``."""
    if not key:
        return None
    token = ApiToken.objects.select_related("user").filter(key=key).first()
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
