"""The Celery worker: thin tasks (``worker.tasks``) that claim work and call ``searchcore``.

Dependencies point one way: ``worker`` imports ``webapp`` (models, services) and ``searchcore``;
neither imports ``worker``.
"""
