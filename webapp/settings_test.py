"""Settings for the unit tests (pytest-django): real settings plus an in-memory channel layer.

The real-stack tests (``tests/stack.py``) run the servers with ``webapp.settings`` itself.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "unit-tests-only")
# Each test gets its own MEDIA_ROOT from the ``media_root`` fixture; these are only the fallbacks.
_TMP = os.path.join(tempfile.gettempdir(), "nas-studio-unit-tests")
os.environ.setdefault("MEDIA_ROOT", os.path.join(_TMP, "media"))
os.environ.setdefault("VAR_DIR", _TMP)

from webapp.settings import *  # noqa: E402,F403

CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = "memory://"  # a test that forgets to patch send_task must not reach Redis
# Tests of other features make many searches quickly; tests/webapp/test_quotas.py sets its own limits.
SEARCH_MAX_ACTIVE_PER_USER = 1000
SEARCH_LAUNCHES_PER_MINUTE = 1000
# No children worker in unit tests (a ping over the memory broker would only wait): scratch children
# train in process unless a test says otherwise (tests/worker/test_children.py).
CHILDREN_FANOUT = "off"
