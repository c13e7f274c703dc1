from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models

from webapp.searches import status


class SearchQuerySet(models.QuerySet):
    def for_owner(self, user: Any) -> SearchQuerySet:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class Search(models.Model):
    # the names and moves live in webapp/searches/status.py; these aliases keep ``Search.QUEUED`` readable
    QUEUED, RUNNING, CANCELLING = status.QUEUED, status.RUNNING, status.CANCELLING
    CANCELLED, FAILED, SUCCEEDED = status.CANCELLED, status.FAILED, status.SUCCEEDED
    STATUSES = status.CHOICES
    ACTIVE, LEASED, FINAL = status.ACTIVE, status.LEASED, status.FINAL

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="searches")
    dataset = models.ForeignKey(
        "datasets.Dataset", on_delete=models.PROTECT, null=True, blank=True, related_name="searches"
    )
    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=STATUSES, default=QUEUED)
    progress = models.FloatField(default=0.0)
    phase = models.CharField(max_length=32, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    best = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    last_seq = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A control run of another search (``webapp.searches.controls``): "random" (the same search with the
    # random controller) or "baseline" (ResNet-20 trained for the whole budget); "" for a normal run.
    control_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="controls")
    role = models.CharField(max_length=16, blank=True, default="")
    # A transfer (``webapp.searches.transfer``): this run trains the architecture that search found, on
    # this run's dataset; ``config["transfer"]`` holds the architecture itself, so a re-run needs no source.
    transfer_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="transfers")
    # Issue 10 item 2: the device class it runs on (``webapp.celery_app``: its queues ``searches.<class>``
    # and ``children.<class>``), chosen at creation; the Celery node that ran it last and its device
    # ("cpu", "cuda:0 NVIDIA H100"), written by the runner when it starts.
    device_class = models.CharField(max_length=8, choices=[("cpu", "CPU"), ("gpu", "GPU")], default="cpu")
    worker_name = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=200, blank=True)

    objects = SearchQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "id"], name="search_status_idx")]
        constraints = [models.UniqueConstraint(fields=["control_of", "role"], condition=~models.Q(role=""),
                                               name="one_control_per_role")]  # never a second set

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def directory(self) -> Path:
        """``MEDIA_ROOT/searches/<id>/``: checkpoint, events file, final training, package."""
        return Path(settings.MEDIA_ROOT) / "searches" / str(self.pk)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class SearchEvent(models.Model):
    """One stored search event; ``seq`` is the searchcore emitter's counter (1, 2, 3 ...)."""

    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    time = models.FloatField()  # unix seconds, as emitted
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["search", "seq"]
        constraints = [models.UniqueConstraint(fields=["search", "seq"], name="unique_event_seq")]
        indexes = [models.Index(fields=["search", "type", "seq"], name="event_type_idx")]

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "time": self.time, "payload": self.payload}


class TrainedModel(models.Model):
    search = models.OneToOneField(Search, on_delete=models.CASCADE, related_name="trained_model")
    metrics = models.JSONField(default=dict)
    package = models.FileField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)

    @property
    def package_path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.package.name


class ChildRun(models.Model):
    """One scratch child of a fanned-out search (issue 10): the job, who runs it, and its result.

    Unique per (search, step, index) and per (search, job_key): a redelivered child task finds its row
    done and does not train again, and a resumed coordinator that samples the same architectures (its
    RNG comes from the checkpoint) finds the children already trained by their job's key.
    """

    PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"
    STATES = [(s, s) for s in (PENDING, RUNNING, DONE, FAILED, CANCELLED)]

    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="children")
    step = models.PositiveIntegerField()  # the batch (a controller step's submit), from 0
    index = models.PositiveIntegerField()  # the child's place in its batch
    job_key = models.CharField(max_length=64)  # a hash of the job's canonical JSON
    job = models.JSONField()  # ``Job.to_dict()``
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)  # claims so far (a dead worker's too)
    worker = models.CharField(max_length=200, blank=True)  # host:pid:nonce of the process running it
    worker_name = models.CharField(max_length=200, blank=True)  # its Celery node name (children1@host)
    progress = models.FloatField(default=0.0)
    metrics = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["search", "step", "index"]
        constraints = [
            models.UniqueConstraint(fields=["search", "step", "index"], name="unique_child_place"),
            models.UniqueConstraint(fields=["search", "job_key"], name="unique_child_job"),
        ]

    def __str__(self) -> str:
        return f"child {self.step}.{self.index} of search {self.search_id} ({self.state})"
