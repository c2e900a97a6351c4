from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UsernameField


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="What the token is for, e.g. a script.")


class AccountCreateForm(forms.Form):
    username = UsernameField(max_length=150)
    email = forms.EmailField(required=False)


class LockoutLiftForm(forms.Form):
    kind = forms.ChoiceField(choices=[("username", "username"), ("ip_address", "address")])
    value = forms.CharField(max_length=255)
