"""Transactional outbox: a task message is stored with the row it is for, then sent (issue 11 item 5)."""
