"""The fixed part of the search designer form.

The space options part of the designer is generated from the space registry
(``webapp.designer.options``) so it is not a Django form.
"""

from __future__ import annotations

from django import forms

BUDGET_UNITS = (("m", "minutes"), ("h", "hours"))
BUDGET_KINDS = (("time", "Time"), ("archs", "Architectures"), ("epochs", "Epochs"))
FINAL_UNITS = (*BUDGET_UNITS, ("epochs", "epochs"))


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

    def __init__(self, *args, datasets=(), spaces=(), controllers=(), evaluators=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
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


def _budget_text(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def _whole(value: float) -> int:
    """A count typed into the number box (0.1 minimum for times): at least 1."""
    return max(1, round(value))
