from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        help_text="So you can tell your tokens apart. The token is shown once, right after it is "
        "made.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Batch script on the render box"}),
    )
