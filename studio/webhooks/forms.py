from django import forms

from studio import conf
from studio.lib.forms import WholeNumberField


class TeamApiForm(forms.Form):
    api_strict = forms.BooleanField(
        required=False,
        template_name="forms/toggle.html",
        label="Strict mode",
        help_text="Creates go upstream at once and are refused (429) when every slot is busy, "
        "as on useapi.net. Off: the studio queues them and answers at once.",
    )
    webhook_progress = forms.BooleanField(
        required=False,
        template_name="forms/toggle.html",
        label="Progress callbacks",
        help_text="Also call replyUrl while a video runs, not only when it ends.",
    )
    default_reply_url = forms.CharField(
        required=False,
        max_length=1024,
        label="Default replyUrl",
        help_text="Called for API videos whose create names no replyUrl. Public addresses only.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/studio"}),
    )
    user_queue_limit = WholeNumberField(
        required=False,
        min_value=1,
        max_value=100000,
        label="Queue limit per person",
        help_text=f"Videos one person may have queued or running through the API "
        f"(blank: {conf.API_USER_QUEUE_LIMIT}).",
    )
    team_queue_limit = WholeNumberField(
        required=False,
        min_value=1,
        max_value=100000,
        label="Queue limit for the team",
        help_text=f"Blank: {conf.API_TEAM_QUEUE_LIMIT}.",
    )
