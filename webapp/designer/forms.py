"""The fixed part of the search designer form.

The space options part of the designer is generated from the space registry
(``webapp.designer.options``) so it is not a Django form.
"""

from __future__ import annotations

from django import forms

from searchcore.config import LATENCY_MODES
from searchcore.schema import Schema
from searchcore.spaces.base import IMAGE, LANGUAGE
from searchcore.training.language_settings import LANGUAGE_ADVANCED
from searchcore.training.settings import FINAL_SCHEMA, final_schema
from searchcore.validation import SEARCH_SCHEMA

BUDGET_UNITS = (("m", "minutes"), ("h", "hours"))
BUDGET_KINDS = (("time", "Time"), ("archs", "Architectures"), ("epochs", "Epochs"))
FINAL_UNITS = (*BUDGET_UNITS, ("epochs", "epochs"))
FINAL_FIELDS = ("batch_size", "lr", "drop_path", "cutout", "aux_head")  # advanced: posted in "final"
# each task kind's advanced final-training fields (named final_<name> for images, for the other kinds
# final_<kind>_<name>): the designer shows the chosen space's kind's and posts only those
KIND_FIELDS = {IMAGE: FINAL_FIELDS, LANGUAGE: LANGUAGE_ADVANCED}
LATENCY_MODE_LABELS = {"soft": "soft: always a little (MnasNet)", "hard": "hard: only beyond the target"}
COLOURS = (("", "native (from the dataset)"), ("gray", "grayscale: 1 channel"), ("rgb", "colour: 3 channels"))


def final_field_name(kind: str, name: str) -> str:
    return f"final_{name}" if kind == IMAGE else f"final_{kind}_{name}"


def _final_field(name: str, schema: Schema = FINAL_SCHEMA) -> forms.Field:
    """A final-training setting's form field, ranges and default from the kind's schema in searchcore."""
    option = schema[name]
    label = {"lr": "learning rate", "bptt": "BPTT window (tokens)"}.get(name, name.replace("_", " "))
    common = {"required": False, "initial": option.default, "help_text": option.help, "label": label}
    if option.type == "bool":
        return forms.BooleanField(**common)
    if option.type == "int":
        if option.default is None:  # empty: planned from the budget at the start of the run
            common["widget"] = forms.NumberInput(attrs={"placeholder": "planned"})
        return forms.IntegerField(min_value=int(option.minimum), max_value=int(option.maximum), **common)
    if option.default is None:  # empty: the searched space's own value
        common["widget"] = forms.NumberInput(attrs={"placeholder": "the search's", "step": "any"})
    return forms.FloatField(min_value=option.minimum, max_value=option.maximum, **common)


class DesignForm(forms.Form):
    """The designer's fixed fields; choices are set per request from the registries and the user's data."""

    name = forms.CharField(max_length=120, required=False)
    dataset = forms.ChoiceField(required=False)
    space = forms.ChoiceField()
    controller = forms.ChoiceField()
    evaluator = forms.ChoiceField()
    budget_kind = forms.ChoiceField(choices=BUDGET_KINDS, initial="time")
    budget_value = forms.FloatField(min_value=0.1, initial=20)
    budget_unit = forms.ChoiceField(choices=BUDGET_UNITS, initial="m")
    final_value = forms.FloatField(min_value=0.1, initial=2)
    final_unit = forms.ChoiceField(choices=FINAL_UNITS, initial="m")
    final_batch_size = _final_field("batch_size")
    final_lr = _final_field("lr")
    final_drop_path = _final_field("drop_path")
    final_cutout = _final_field("cutout")
    final_aux_head = _final_field("aux_head")
    image_size = forms.IntegerField(required=False, label="image side",
                                    min_value=int(SEARCH_SCHEMA["image_size"].minimum),
                                    max_value=int(SEARCH_SCHEMA["image_size"].maximum),
                                    help_text="pixels; empty: the dataset's native side",
                                    widget=forms.NumberInput(attrs={"placeholder": "native"}))
    grayscale = forms.ChoiceField(required=False, choices=COLOURS, label="colour")
    latency_target_ms = forms.FloatField(
        required=False, label="latency target (ms per image)",
        min_value=SEARCH_SCHEMA["latency_target_ms"].minimum,
        max_value=SEARCH_SCHEMA["latency_target_ms"].maximum,
        help_text="empty: off; else reward = accuracy × (latency / target)^w, the latency of the standalone "
                  "network measured on the server's device",
        widget=forms.NumberInput(attrs={"placeholder": "off", "step": "any"}))
    latency_mode = forms.ChoiceField(required=False, label="latency penalty", initial="soft",
                                     choices=[(m, LATENCY_MODE_LABELS[m]) for m in LATENCY_MODES])

    def __init__(self, *args, datasets=(), spaces=(), controllers=(), evaluators=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, names in KIND_FIELDS.items():
            if kind != IMAGE:
                for name in names:
                    self.fields[final_field_name(kind, name)] = _final_field(name, final_schema(kind))
        self.fields["dataset"].choices = [("", "— choose a ready dataset —"), *datasets]
        self.fields["space"].choices = [(s, s) for s in spaces]
        self.fields["controller"].choices = [(c, c) for c, _ in controllers]
        self.fields["evaluator"].choices = [(e, e) for e, _ in evaluators]

    def budget(self) -> str | dict:
        data = self.cleaned_data
        if data["budget_kind"] == "archs":
            return {"max_archs": _whole(data["budget_value"])}
        if data["budget_kind"] == "epochs":
            return {"max_epochs": _whole(data["budget_value"])}
        return _budget_text(data["budget_value"], data["budget_unit"])

    def final_budget(self) -> str | dict:
        data = self.cleaned_data
        if data["final_unit"] == "epochs":
            return {"epochs": _whole(data["final_value"])}
        return _budget_text(data["final_value"], data["final_unit"])

    def input_settings(self) -> dict:
        """``image_size``/``grayscale`` the user chose; an empty box is left out (the dataset's own)."""
        data = self.cleaned_data
        settings: dict = {}
        if data.get("image_size") is not None:
            settings["image_size"] = data["image_size"]
        if data.get("grayscale"):
            settings["grayscale"] = data["grayscale"] == "gray"
        return settings

    def cost_settings(self) -> dict:
        """The cost-aware reward's target and mode; an empty target leaves both out (accuracy alone)."""
        data = self.cleaned_data
        if data.get("latency_target_ms") is None:
            return {}
        mode = data.get("latency_mode") or "soft"
        return {"latency_target_ms": data["latency_target_ms"], "latency_mode": mode}

    def advanced_fields(self) -> list:
        """The image final-training settings' bound fields, for the template's advanced section."""
        return [self[f"final_{name}"] for name in FINAL_FIELDS]

    def advanced_sections(self) -> list[dict]:
        """One advanced final-training section per task kind: ``{"kind", "fields"}``."""
        return [{"kind": kind, "fields": [self[final_field_name(kind, n)] for n in names]}
                for kind, names in KIND_FIELDS.items()]

    def final_settings(self, kind: str = IMAGE) -> dict:
        """The advanced final-training settings of the chosen space's kind (an empty box: searchcore's
        default); the other kinds' fields are not sent."""
        data = self.cleaned_data
        names = KIND_FIELDS.get(kind, ())
        settings = {name: data[final_field_name(kind, name)] for name in names
                    if data.get(final_field_name(kind, name)) is not None}
        if kind == IMAGE:
            settings["aux_head"] = bool(data.get("final_aux_head"))
        return settings


def _budget_text(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def _whole(value: float) -> int:
    """A count typed into the number box (0.1 minimum for times): at least 1."""
    return max(1, round(value))
