"""Server-rendered pages of NAS Studio: accounts, datasets, searches (designer, live, results)."""
