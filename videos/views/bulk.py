"""Several selected videos at once: delete, add to or remove from a collection, zip, join."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST


@require_POST
@login_required
def bulk(request):
    raise NotImplementedError  # TODO(H6)
