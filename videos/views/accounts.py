"""Provider accounts (team admins): the list with live slots, add, edit, enable, test, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio import conf
from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error, form_status
from studio.teams.access import require_admin
from videos import access, selectors, services
from videos.forms import AccountForm


@require_GET
@login_required
def accounts(request):
    """The team's accounts and their live slots; the slots part is polled, so no side effects."""
    membership = require_admin(request)
    slots, queued = selectors.account_slots(team=membership.team)
    context = {
        "slots": slots,
        "queued": queued,
        "busy": sum(len(s.running) for s in slots),
        "capacity": sum(
            s.account.max_jobs for s in slots if s.account.enabled and not s.account.is_paused
        ),
        "nav": "accounts",
    }
    template = "videos/accounts.html#slots" if request.htmx else "videos/accounts.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def account_new(request):
    membership = require_admin(request)
    form = AccountForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            account = services.account_create(team=membership.team, **form.cleaned_data)
        except (ServiceError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{account.name} was added. Test its connection below.")
            return _to_card(account)
    context = {"form": form, "nav": "accounts", "currency": conf.COST_CURRENCY}
    return render(request, "videos/account_form.html", context, status=form_status(form))


@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    form = AccountForm(request.POST if request.method == "POST" else None, account=account)
    if form.is_bound and form.is_valid():
        try:
            services.account_update(account=account, **form.cleaned_data)
        except (ServiceError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{account.name} was saved.")
            return _to_card(account)
    context = {"form": form, "account": account, "nav": "accounts", "currency": conf.COST_CURRENCY}
    return render(request, "videos/account_form.html", context, status=form_status(form))


def _to_card(account) -> HttpResponseRedirect:
    return redirect(reverse("accounts") + f"#account-{account.pk}")


@require_POST
@login_required
def account_toggle(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    services.account_update(account=account, enabled=not account.enabled)
    if account.enabled:
        messages.success(request, f"{account.name} is enabled and takes videos from the queue.")
    else:
        messages.success(request, f"{account.name} is disabled; videos running on it finish.")
    return _to_card(account)


@require_POST
@login_required
def account_resume(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    services.account_resume(account=account)
    messages.success(request, f"{account.name} is no longer paused.")
    return _to_card(account)


@require_POST
@login_required
def account_delete(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    try:
        services.account_delete(account=account)
        messages.success(request, f"{account.name} was deleted; its videos stay in the gallery.")
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("accounts")


@require_POST
@login_required
def account_test(request, account_id: int):
    """One real call to the upstream. htmx swaps the result into the card; without JavaScript
    it comes back as a message on the accounts page."""
    account = access.get_account_for_admin(require_admin(request), account_id)
    result = services.account_test(account=account)
    if request.htmx:
        context = {"account": account, "result": result}
        return render(request, "videos/accounts.html#test-result", context)
    if result.ok:
        messages.success(request, f"{account.name}: {result.message}")
    else:
        messages.error(request, f"{account.name}: connection failed. {result.message}")
    return redirect("accounts")  # the top of the page, where the message is


# API tokens (every member: their own tokens in the current team)


# Webhooks and API settings (team admins)
