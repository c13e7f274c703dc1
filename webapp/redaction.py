"""User-facing error text without server paths: ``/srv/nas/var/media/datasets/7/x.zip`` -> ``…/x.zip``.

Exception messages (``OSError``, zip and torch errors) name files by absolute path; stored as a
dataset's or search's error they would show the server's layout to its users. The full text
stays in the logs.
"""

from __future__ import annotations

import re

_ROOTS = ("tmp", "var", "home", "usr", "opt", "work", "root", "srv", "mnt", "data", "etc", "app", "private")
_PATH = re.compile(r"(?<![\w:/.~-])/(?:" + "|".join(_ROOTS) + r")(?:/[^\s'\"()\[\]{}<>,;:]+)+")


def redact_paths(text: str) -> str:
    return _PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)
