"""Sign up, log in/out (Django's auth views) and the account page with the API token."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from webapp.accounts.services import create_user, current_token, regenerate_token
from webapp.datasets.quota import quota_summary
from webapp.pages.forms import SignupForm
from webapp.searches.limits import limits_summary

logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_OPEN:  # SIGNUP_OPEN=0: accounts are made by an admin (manage.py ensure_user)
        return render(request, "registration/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect("pages:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = create_user(form.cleaned_data["username"], form.cleaned_data["password"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            return redirect("pages:datasets")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST" and request.POST.get("action") == "regenerate":
        new_key = regenerate_token(request.user)  # shown in this response only: just its hash is kept
    context = {"token": current_token(request.user), "new_key": new_key,
               "storage": quota_summary(request.user), "limits": limits_summary(request.user)}
    return render(request, "pages/account.html", context)
