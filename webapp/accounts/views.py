"""The login view: Django's, with the throttle's message and a 429 when sign-in is throttled."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from webapp.accounts import throttle
from webapp.accounts.backends import THROTTLED


class ThrottledAuthenticationForm(AuthenticationForm):
    def get_invalid_login_error(self) -> ValidationError:
        if getattr(self.request, THROTTLED, False):
            return ValidationError(
                f"Too many failed sign-in attempts. Wait {throttle.retry_minutes()} minutes and try again.",
                code="throttled")
        return super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(self.request, THROTTLED, False):
            response.status_code = 429
            response["Retry-After"] = str(60 * throttle.retry_minutes())
        return response


def signup_open(request: object) -> dict[str, bool]:
    """Template context processor: whether to offer the sign-up link."""
    from django.conf import settings

    return {"signup_open": settings.SIGNUP_OPEN}
