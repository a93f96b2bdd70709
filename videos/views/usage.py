"""Usage per member and account, its CSV, and members' quotas (admins set them)."""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from studio.lib.errors import ServiceError
from studio.teams.access import get_membership_for_admin, require_admin, require_membership
from studio.teams.selectors import team_members
from videos import charts, selectors_usage, services
from videos.forms_usage import QuotaForm, UsageForm
from videos.models import MemberQuota


@require_GET
@login_required
def usage(request):
    membership = require_membership(request)
    query = UsageForm(request.GET, membership=membership)
    if not query.is_valid():
        return _page(request, membership, query, None, status=400)
    data = query.cleaned_data
    found = selectors_usage.usage(
        team=membership.team,
        since=data["since"],
        until=data["until"],
        period=data["period"],
        author_id=data["member"],
        account_id=data["account"],
    )
    if request.GET.get("format") == "csv":
        return _csv(membership, data, found)
    return _page(request, membership, query, found)


@require_POST
@login_required
def quota_set(request, membership_id: int):
    admin = require_admin(request)
    member = get_membership_for_admin(admin, membership_id)
    form = QuotaForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field.replace('_', ' ')}: {errors[0]}")
        return redirect("usage")
    try:
        services.quota_set(membership=member, by=admin, **form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Saved the quota of {member.user.get_username()}.")
    return redirect("usage")


DETAIL_ROWS = 100  # rows of the detail table on the page


def _page(request, membership, query: UsageForm, found, *, status: int = 200):
    context = {
        "query": query,
        "usage": found,
        "nav": "usage",
        "quota": selectors_usage.quota_state(membership=membership),
        "accounts": membership.team.accounts.order_by("name"),
    }
    if found is not None:
        # The page shows the newest rows of the detail; the CSV has every one (a month of a
        # big team is thousands of rows: unreadable here, and most of the page's time).
        context["detail_rows"] = found.rows[:DETAIL_ROWS]
        context["detail_more"] = max(0, len(found.rows) - DETAIL_ROWS)
        period = query.cleaned_data["period"]
        context["video_chart"] = charts.chart(
            [(f"{start:%d %b}", n) for start, n, _ in found.by_period],
            summary=f"Videos by {period}, {found.videos} in all",
            unit=" videos",
        )
        context["cost_chart"] = charts.chart(
            [(f"{start:%d %b}", float(cost)) for start, _, cost in found.by_period],
            summary=f"Estimated cost by {period}, {found.cost} {found.currency} in all",
            unit=f" {found.currency}",
        )
    if membership.is_admin:
        members = team_members(team=membership.team)
        quotas = MemberQuota.objects.filter(membership__in=members).in_bulk(field_name="membership")
        context["quota_rows"] = [(m, _quota_form(quotas.get(m.pk))) for m in members]
    return render(request, "videos/usage.html", context, status=status)


def _quota_form(quota: MemberQuota | None) -> QuotaForm:
    if quota is None:
        return QuotaForm()
    fields = ("videos_per_day", "videos_per_month", "cost_per_month")
    return QuotaForm(initial={f: getattr(quota, f) for f in fields})


def _csv(membership, data: dict, found) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period", "member", "account", "videos", "seconds", "cost", "currency"])
    for row in found.rows:
        writer.writerow(
            [
                row.period.isoformat(),
                _cell(row.member),
                _cell(row.account),
                row.videos,
                f"{row.seconds:.1f}",
                row.cost,
                found.currency,
            ]
        )
    name = f"usage-{data['since']:%Y%m%d}-{data['until']:%Y%m%d}.csv"
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _cell(text: str) -> str:
    """A name as a spreadsheet shows it, never as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
