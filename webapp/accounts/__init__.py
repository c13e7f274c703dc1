"""Users and API tokens (``Authorization: Token <key>`` for scripts)."""
