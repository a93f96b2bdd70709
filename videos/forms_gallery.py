"""The gallery page's forms: its query string (search, filters, paging), the Trash's, restore,
collections and density, and the one live poll. The composer and account forms are in forms.py."""

from django import forms

from studio.lib.forms import MAX_ID, WholeNumberField, whole_number
from videos import search
from videos.models import Collection, GalleryPrefs, ProviderAccount, Video
from videos.selectors_trash import parse_trash_cursor


class GalleryForm(forms.Form):
    """The gallery's query string: its search and filters (videos.search), and `before`, the
    cursor its page links carry (a video id). Anything else in the query string is ignored.

    Each refusal says what to fix; the view prefixes it with the parameter and its value."""

    before = WholeNumberField(required=False, min_value=1, max_value=MAX_ID)
    q = forms.CharField(required=False, max_length=200)
    # A member's username, or "mine".
    author = forms.CharField(required=False, max_length=150)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *Video.Status.choices, (search.RUNNING, "In progress")],
        error_messages={
            "invalid_choice": "not a status; use one of "
            + ", ".join([*Video.Status.values, search.RUNNING])
        },
    )
    account = WholeNumberField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        error_messages={"invalid": "an account is named by its id, a whole number"},
    )
    model = forms.CharField(required=False, max_length=40)
    fav = forms.ChoiceField(
        required=False,
        choices=[("", "All"), ("1", "Favourites")],
        error_messages={"invalid_choice": "use fav=1 for your favourites, or leave it out"},
    )
    collection = WholeNumberField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        error_messages={"invalid": "a collection is named by its id, a whole number"},
    )

    def __init__(self, *args, team, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.team, self.user = team, user
        # `from` is a Python keyword: these two cannot be class attributes.
        for name in ("from", "to"):
            self.fields[name] = forms.DateField(
                required=False,
                input_formats=["%Y-%m-%d"],
                error_messages={"invalid": "not a date; write it as YYYY-MM-DD, e.g. 2026-12-03"},
            )

    def clean_author(self):
        name = self.cleaned_data["author"]
        if not name:
            return None
        if name == "mine":
            return self.user
        member = self.team.memberships.filter(user__username=name).select_related("user").first()
        if member is None:
            raise forms.ValidationError(
                "no member of this team has that username; pick one from the Author list, "
                "or use author=mine"
            )
        return member.user

    def clean_account(self):
        pk = self.cleaned_data["account"]
        if pk is None:
            return None
        account = ProviderAccount.objects.filter(pk=pk, team=self.team).first()
        if account is None:
            raise forms.ValidationError("no account of this team has that id")
        return account

    def clean_collection(self):
        pk = self.cleaned_data["collection"]
        if pk is None:
            return None
        collection = Collection.objects.filter(pk=pk, team=self.team).first()
        if collection is None:
            raise forms.ValidationError("no collection of this team has that id")
        return collection

    def _clean_day(self, name: str):
        day = self.cleaned_data[name]
        # The search adds a day to `to` and sets midnight in a time zone: stay clear of the ends.
        if day is not None and not 1970 <= day.year <= 9998:
            raise forms.ValidationError("give a year from 1970 to 9998")
        return day

    def clean_from(self):
        return self._clean_day("from")

    def clean_to(self):
        return self._clean_day("to")

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            self.add_error("to", f"is before from={start:%Y-%m-%d}; the range ends on or after")
        return data

    def filters(self) -> search.GalleryFilters:
        data = self.cleaned_data
        return search.GalleryFilters(
            q=data["q"],
            author=data["author"],
            status=data["status"],
            account=data["account"],
            model=data["model"],
            date_from=data.get("from"),
            date_to=data.get("to"),
            fav=data["fav"] == "1",
            collection=data["collection"],
        )


class TrashForm(forms.Form):
    """The Trash page's query string: `before`, the cursor its "Older" link carries."""

    before = forms.CharField(required=False, max_length=40, strip=False)

    def clean_before(self):
        text = self.cleaned_data["before"]
        if not text:
            return None
        cursor = parse_trash_cursor(text)
        if cursor is None:
            raise forms.ValidationError("not a Trash page link; open the Trash from its first page")
        return cursor


class RestoreForm(forms.Form):
    """Restore's page to go back to without JavaScript: the gallery (the Undo) or the Trash."""

    back = forms.ChoiceField(choices=[("gallery", "Gallery"), ("trash", "Trash")], required=False)


# Favourites, collections, density (videos/views/collections.py)


class CollectionForm(forms.Form):
    """A collection's name; services.collection_create and collection_rename judge it."""

    name = forms.CharField(
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": 80, "autocomplete": "off", "placeholder": "e.g. Spring campaign"}
        ),
    )


class CollectionVideoForm(forms.Form):
    """The detail page's "Add to collection", and its remove buttons."""

    collection = WholeNumberField(
        min_value=1, max_value=MAX_ID, error_messages={"required": "Choose a collection."}
    )
    action = forms.ChoiceField(
        choices=[("add", "Add"), ("remove", "Remove")],
        error_messages={"invalid_choice": "Say whether to add the video or remove it."},
    )


class DensityForm(forms.Form):
    density = forms.ChoiceField(
        choices=GalleryPrefs.Density.choices,
        error_messages={
            "required": "Choose a density: comfortable or compact.",
            "invalid_choice": "Choose a density: comfortable or compact.",
        },
    )


# The gallery's poll answers for at most this many cards at once; a page with more sends them
# in turns (static/js/live.js).
LIVE_POLL_MAX_CARDS = 100
_HEX = frozenset("0123456789abcdef")


class LivePollForm(forms.Form):
    """The gallery's one poll (videos.views.live.poll): `cards=12-3fa9c1d2e4b0,13-…`, each card
    in progress on the page as its id and the key of what it shows (the key may be empty)."""

    cards = forms.CharField(
        max_length=4000,
        error_messages={
            "required": "Name the cards to poll: cards=<id>-<key>,<id>-<key>,…",
            "max_length": f"cards= is too long: poll at most {LIVE_POLL_MAX_CARDS} cards at once.",
        },
    )

    def clean_cards(self) -> dict[int, str]:
        seen: dict[int, str] = {}
        for item in self.cleaned_data["cards"].split(","):
            ident, _, key = item.strip().partition("-")
            number = whole_number(ident)
            if number is None or not 1 <= number <= MAX_ID:
                raise forms.ValidationError(f"cards: {ident[:20]!r} is not a video id.")
            if len(key) > 32 or not set(key) <= _HEX:
                raise forms.ValidationError(f"cards: the key of card {number} is not valid.")
            seen[number] = key
        if len(seen) > LIVE_POLL_MAX_CARDS:
            raise forms.ValidationError(
                f"cards: at most {LIVE_POLL_MAX_CARDS} cards per poll; this one named {len(seen)}."
            )
        return seen
