"""The gallery's bulk bar (videos/views/bulk.py): which action, on which videos."""

from django import forms

from studio.lib.forms import MAX_ID, WholeNumberField, whole_number

MAX_SELECTED = 500
ACTIONS = {
    "delete": "Move to trash",
    "add": "Add to collection",
    "remove": "Remove from collection",
    "zip": "Download as zip",
    "join": "Join into one video",
}


class IdsField(forms.Field):
    """Video ids, as the cards' checkboxes send them (one `ids` value each); duplicates go."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if len(values) > MAX_SELECTED:
            raise forms.ValidationError(
                f"Select at most {MAX_SELECTED} videos at a time ({len(values)} are selected)."
            )
        ids: list[int] = []
        for text in values:
            pk = whole_number(str(text))
            if pk is None or not 1 <= pk <= MAX_ID:
                raise forms.ValidationError(f"{str(text)[:20]!r} is not a video id.")
            if pk not in ids:
                ids.append(pk)
        return ids


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=list(ACTIONS.items()),
        error_messages={
            "required": "Choose what to do with the selected videos.",
            "invalid_choice": f"Choose what to do: {', '.join(ACTIONS)}.",
        },
    )
    ids = IdsField(error_messages={"required": "Select at least one video first."})
    # The order the videos were selected in, as the bar's script writes it ("12,7,30"): the
    # order a join plays them in. Without JavaScript, the gallery's order (newest first).
    order = forms.CharField(required=False, max_length=20 * MAX_SELECTED)
    collection = WholeNumberField(required=False, min_value=1, max_value=MAX_ID)

    def clean(self):
        data = super().clean()
        action, ids = data.get("action"), data.get("ids")
        if action in ("add", "remove") and not data.get("collection"):
            self.add_error("collection", "Choose a collection first.")
        if ids:
            rank = {}
            for n, text in enumerate((data.get("order") or "").split(",")):
                pk = whole_number(text)
                if pk is not None and pk not in rank:
                    rank[pk] = n
            # Ids the order does not name (it is only a hint) keep their place at the end.
            data["ids"] = sorted(ids, key=lambda pk: rank.get(pk, len(rank)))
        return data

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)
