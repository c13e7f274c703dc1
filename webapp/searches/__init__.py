"""Searches: the queued/running NAS jobs, their stored events and their trained models."""
