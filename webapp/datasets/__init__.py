"""Uploaded datasets: an image zip (class folders or CSV manifest) or a text corpus."""
