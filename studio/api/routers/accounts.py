"""accounts/: the team's MiniMax keys and useapi.net tokens. Every member reads them (never a
secret, and `error` on one a script should skip); only team admins add or delete (403)."""

from typing import Annotated

from django.http import Http404
from ninja import Router, Status

from studio.api.access import ApiCaller
from studio.api.auth import AdminTokenAuth
from studio.api.bodies import AccountIn
from studio.api.errors import ApiError
from studio.api.links import account_ref
from studio.api.params import JsonOrForm, form_body_too
from studio.api.routers import answers
from studio.api.schemas import AccountDeletedOut, AccountOut, account_out
from videos import access, selectors, services
from videos.models import ProviderAccount

router = Router(tags=["accounts"])


def caller_account(caller: ApiCaller, ref: str) -> ProviderAccount:
    try:
        return access.get_account_for_member(caller.membership, ref)
    except Http404:
        raise ApiError(404, "Configuration not found") from None


@router.get(
    "/accounts/",
    response=answers({200: dict[str, AccountOut]}),
    url_name="api_accounts",
    operation_id="accountList",
    summary="The team's accounts, by id",
    description="An account that is disabled, paused or failing (an upstream error in the last "
    "minutes, nothing working since) carries `error`, saying why; a healthy one has no `error` "
    "key at all.",
    exclude_unset=True,
)
def account_list(request):
    membership = request.auth.membership
    rows = selectors.team_accounts(team=membership.team)
    # Dumped here: ninja validates a dict's Schema values afresh, which would set `error` (to
    # null) on every account; a dict's keys stay absent.
    return {
        account_ref(a): account_out(
            a, running=a.running, last_ok=a.last_ok, admin=membership.is_admin
        ).model_dump(exclude_unset=True)
        for a in rows
    }


@router.post(
    "/accounts/",
    response=answers({201: AccountOut}, 403),
    auth=AdminTokenAuth(),
    url_name="api_accounts",
    operation_id="accountCreate",
    summary="Add a MiniMax or useapi.net account (team admins)",
    description="The secret is encrypted at rest and never shown again. maxJobs is the hard "
    "cap on videos the account runs at once.",
    openapi_extra=form_body_too("AccountIn"),
)
def account_create(request, body: Annotated[AccountIn, JsonOrForm()]):
    team = request.auth.membership.team
    account = services.account_create(team=team, **body.service_fields())
    return Status(201, account_out(account, running=0))


@router.get(
    "/accounts/{account}",
    response=answers({200: AccountOut}, 404),
    url_name="api_account",
    operation_id="accountGet",
    summary="One account; `error` only when it is disabled, paused or failing",
    exclude_unset=True,
)
def account_get(request, account: str):
    found = caller_account(request.auth, account)
    return account_out(
        found,
        running=selectors.account_running(account=found),
        last_ok=selectors.account_last_ok(account=found),
        admin=request.auth.membership.is_admin,
    )


@router.delete(
    "/accounts/{account}",
    response=answers({200: AccountDeletedOut}, 403, 404),
    auth=AdminTokenAuth(),
    url_name="api_account",
    operation_id="accountDelete",
    summary="Delete an account with nothing running (team admins)",
)
def account_delete(request, account: str):
    services.account_delete(account=caller_account(request.auth, account))
    return AccountDeletedOut(account=account, deleted=True, code=200)
