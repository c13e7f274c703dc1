"""Issue 11 item 8: production settings pass ``check --deploy`` once TLS is declared; the SQLite
database is owner-only; tokens from before hashing keep working after the migration."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings", "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "-deploy-check-only-" + "9" * 30, "ALLOWED_HOSTS": "nas.example.org",
            "VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=full, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_check_deploy_passes_with_tls_declared(tmp_path: Path) -> None:
    done = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", NAS_TLS="1")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_check_deploy_names_the_tls_warnings_without_it(tmp_path: Path) -> None:
    done = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", NAS_TLS="0")
    assert done.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in done.stderr + done.stdout


@pytest.mark.slow
def test_sqlite_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        done = _manage(tmp_path, "migrate", "--noinput")
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    files = [p for p in tmp_path.iterdir() if p.name.startswith("db.sqlite3")]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files), \
        {p.name: oct(p.stat().st_mode) for p in files}
    (tmp_path / "db.sqlite3").chmod(0o644)  # an older, world-readable database is tightened at start
    _manage(tmp_path, "check")
    assert stat.S_IMODE((tmp_path / "db.sqlite3").stat().st_mode) == 0o600


@pytest.mark.slow
def test_migration_hashes_existing_plain_tokens(tmp_path: Path) -> None:
    assert _manage(tmp_path, "migrate", "--noinput").returncode == 0
    assert _manage(tmp_path, "migrate", "accounts", "0001", "--noinput").returncode == 0  # before hashing
    assert _manage(tmp_path, "shell", "-c", "from django.contrib.auth.models import User; "
                   "User.objects.create_user('old', password='correct-horse-42')").returncode == 0
    key = "ab" * 20
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        db.execute("INSERT INTO accounts_apitoken (key, created, user_id) VALUES (?, datetime('now'), 1)",
                   (key,))
    assert _manage(tmp_path, "migrate", "--noinput").returncode == 0
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        stored = db.execute("SELECT * FROM accounts_apitoken").fetchall()
    assert key not in repr(stored)
    done = _manage(tmp_path, "shell", "-c", "from webapp.accounts.services import user_for_token; "
                   f"print(user_for_token({key!r}).username)")
    assert done.stdout.strip().splitlines()[-1] == "old", done.stderr
