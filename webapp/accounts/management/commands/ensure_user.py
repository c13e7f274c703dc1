"""``manage.py ensure_user NAME PASSWORD``: create the user (or reset its password); print a new API token.

Only a hash of a token is stored, so the key printed is a fresh one (the previous key stops working).

Idempotent, so ``scripts/run.sh`` can make the demo user on every start and the real-stack test
fixture can make its users without importing the app's settings into the test process.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.accounts.services import create_user, regenerate_token


class Command(BaseCommand):
    help = "Create a user (or reset its password) and print a new API token (the old one stops working)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("password")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, username: str, password: str, email: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            try:
                user = create_user(username, password, email=email)
            except ValidationError as exc:
                reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                raise CommandError(reasons) from exc
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(regenerate_token(user))
