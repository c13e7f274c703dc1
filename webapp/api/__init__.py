"""The JSON API (design §7): token or session auth, every object scoped to its owner."""
