"""Sign-in protection around django-axes.

Axes counts failed sign-ins per username and, separately, per client address (the AXES_*
settings). This module tells it who the client is behind the reverse proxy, puts its lockout on
the sign-in page, and decides which failures a success or a password reset forgives. Django's
sign-in and reset views are classes; they are extended here rather than rewritten, because their
token and session handling is what makes them safe.
"""

import ipaddress
import math
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from studio import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE): the peer's, unless the peer is one of
    TRUSTED_PROXIES; then the nearest X-Forwarded-For entry that is not a trusted proxy. Entries
    further left were written by the client and prove nothing."""
    address = _address(request.META.get("REMOTE_ADDR", ""))
    # A peer without an IP address is a unix socket, which only this host can reach.
    if address is not None and not _trusted(address):
        return str(address)
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            break  # not an address: a trusted proxy relayed the client's garbage
        address = hop_address
        if not _trusted(address):
            break
    return str(address) if address is not None else None


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 203.0.113.7:443
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def _trusted(address: IPAddress) -> bool:
    return any(address in network for network in conf.TRUSTED_PROXIES)


@dataclass
class Pause:
    """Why sign-in is refused for now, and for how long. `by_address` means failures for other
    usernames from the address: a password reset, which forgets the username's own failures,
    does not end that pause."""

    by_address: bool
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def signin_pause(request: HttpRequest, credentials: dict | None) -> Pause:
    """When the request's counters will have cooled off: one over the limit drops under it at the
    latest at its last failure plus the cool-off."""
    handler = AxesProxyHandler.get_implementation()
    limit = get_failure_limit(request, credentials)
    username = get_client_username(request, credentials)
    ends, by_address = [], False
    for parameter, attempts in zip(
        settings.AXES_LOCKOUT_PARAMETERS,
        handler.get_user_attempts(request, credentials),
        strict=True,
    ):
        totals = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (totals["failures"] or 0) >= limit:
            ends.append(totals["last"] + get_cool_off(request))
        if parameter == "ip_address":
            others = attempts.exclude(username=username).aggregate(n=Sum("failures_since_start"))
            by_address = (others["n"] or 0) >= limit
    now = getattr(request, "axes_attempt_time", None) or timezone.now()  # axes' clock for it
    seconds = (max(ends, default=now) - now).total_seconds()
    return Pause(by_address=by_address, seconds=max(1, math.ceil(seconds)))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The sign-in page again, saying what is paused, for how long, and the way out
    (AXES_LOCKOUT_CALLABLE). 429, with Retry-After for scripts."""
    pause = signin_pause(request, credentials)
    username = get_client_username(request, credentials) or ""
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next", ""),
        "pause": pause,
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(pause.seconds)
    return response


def signin_failures_forget(*, username: str, ip_address: str | None = None) -> int:
    """Forgets the failed sign-ins for USERNAME, from IP_ADDRESS only when it is given."""
    return AxesProxyHandler.reset_attempts(username=username, ip_address=ip_address)


class SignInView(auth_views.LoginView):
    """Django's sign-in. A success forgives the typos made for this username from this address,
    and nothing else: failures from elsewhere may be someone guessing, and this address's
    failures for other usernames may be this person guessing."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        signin_failures_forget(
            username=form.get_user().get_username(), ip_address=client_ip(self.request)
        )
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's set-a-new-password step. It also lifts a pause on the username: whoever can
    read its owner's email is its owner. A pause on an address stays."""

    def form_valid(self, form):
        response = super().form_valid(form)
        signin_failures_forget(username=form.user.get_username())
        return response
