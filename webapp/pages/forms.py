"""Forms of the pages: sign-up and dataset upload (the designer's form is ``webapp.designer.forms``)."""

from __future__ import annotations

from django import forms


class SignupForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username",
                                                                            "autofocus": True}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="At least 8 characters, not a common password.")
    password2 = forms.CharField(label="Password again",
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class DatasetUploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "defaults to the file name"}))
    file = forms.FileField(help_text="A .zip of class folders (cat/001.png ...) or with a CSV manifest; "
                                     "or a text corpus (.txt or a zip of train/valid/test.txt).")
