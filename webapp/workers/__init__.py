"""Connected Celery workers: a heartbeat row per worker, the worker page and ``GET /api/workers/``."""
