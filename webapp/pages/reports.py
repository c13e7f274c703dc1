"""What the dataset page shows, assembled from ``Dataset.report`` (the validation's health report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from searchcore.data.issues import REASONS
from webapp.datasets.inputs import native_summary
from webapp.datasets.models import Dataset

THUMBS_PER_CLASS = 8
SKIPPED_SHOWN = 20  # examples per reason on the page


def dataset_context(dataset: Dataset) -> dict[str, Any]:
    report = dataset.report or {}
    counts = report.get("counts") or {}
    class_names = report.get("class_names") or list(counts)
    thumbs = thumbnail_names(dataset)
    return {
        "dataset": dataset,
        "report": report,
        "chart_report": {"class_names": class_names, "counts": counts,
                         "split_counts": report.get("split_counts") or {}},
        "class_rows": [
            {"name": c, "count": counts.get(c, 0), "thumbs": thumbs.get(c, [])[:THUMBS_PER_CLASS]}
            for c in class_names
        ],
        "split_totals": {k: sum(v.values()) for k, v in (report.get("split_counts") or {}).items()},
        "image_sizes": sorted((report.get("image_sizes") or {}).items(), key=lambda kv: -kv[1]),
        "image_modes": sorted((report.get("modes") or {}).items(), key=lambda kv: -kv[1]),
        "native": native_summary(dataset),
        **skipped_context(report),
        "warnings": report.get("warnings") or [],
        "text_stats": _text_stats(report) if dataset.kind == Dataset.TEXT else [],
        "longest_lines": _longest_lines(report) if dataset.kind == Dataset.TEXT else [],
    }


def skipped_context(report: dict[str, Any]) -> dict[str, Any]:
    """The skipped files as the page shows them: a count per reason (``skipped_counts``) and the
    examples validation kept (the first few of each reason; a report made before counts were
    kept has every issue in ``skipped`` and no counts)."""
    counts = dict(report.get("skipped_counts") or {})
    skipped: list[dict[str, Any]] = []
    shown: dict[str, int] = {}
    for issue in report.get("skipped") or []:
        if not isinstance(issue, dict):
            continue
        code = str(issue.get("code") or "other")
        if not report.get("skipped_counts"):
            counts[code] = counts.get(code, 0) + 1
        if shown.get(code, 0) < SKIPPED_SHOWN:  # a report stored before the cap may list 10^6
            shown[code] = shown.get(code, 0) + 1
            skipped.append(issue)
    groups = [{"code": code, "label": REASONS.get(code, code), "count": n}
              for code, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    total = sum(counts.values())
    return {"skipped": skipped, "skipped_groups": groups, "skipped_total": total,
            "skipped_hidden": max(total - len(skipped), 0)}


def _text_stats(report: dict[str, Any]) -> list[tuple[str, Any]]:
    """Flat (label, value) rows for a text corpus report, whatever keys validation wrote."""
    skip = {"skipped", "skipped_counts", "skipped_total", "longest_lines",
            "warnings", "class_names", "counts", "split_counts", "image_sizes", "thumbnails",
            "modes", "native"}
    rows: list[tuple[str, Any]] = []
    for key, value in report.items():
        if key in skip:
            continue
        if key == "oov_rate" and isinstance(value, dict):  # a share: shown as a percentage
            rows.extend((f"OOV rate · {k}", _percent(v)) for k, v in value.items())
        elif isinstance(value, dict):
            rows.extend((f"{key.replace('_', ' ')} · {k}", v) for k, v in value.items()
                        if not isinstance(v, (dict, list)))
        elif not isinstance(value, list):
            rows.append((key.replace("_", " "), value))
    return rows


def _percent(value: Any) -> str:
    return f"{100 * value:.1f} %" if isinstance(value, (int, float)) else str(value)


def _longest_lines(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = report.get("longest_lines")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def thumbnail_names(dataset: Dataset) -> dict[str, list[str]]:
    """Stored thumbnails by class: the validation's ``report["thumbnails"]`` (``{class: [file]}``,
    files relative to ``Dataset.thumbnails_dir``), else whatever class folders are on disk."""
    listed = (dataset.report or {}).get("thumbnails")
    if isinstance(listed, dict):
        return {str(k): [str(n) for n in v] for k, v in listed.items() if isinstance(v, list)}
    root = Path(dataset.thumbnails_dir)
    if not root.is_dir():
        return {}
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            rel = path.relative_to(root)
            cls = rel.parts[0] if len(rel.parts) > 1 else ""
            found.setdefault(cls, []).append(rel.as_posix())
    return found
