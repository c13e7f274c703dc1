"""``Idempotency-Key`` on creation: the same key from the same user gives back the first object."""
