"""NAS Studio web app: Django project (settings, ASGI routing) and its apps.

The Celery app lives in ``webapp.celery_app``; the web app only *sends* tasks by name and never
imports ``worker``.
"""
