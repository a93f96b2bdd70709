"""The gallery's search and filters: reads, like videos.selectors.

`?q=` searches the prompts' words through the full-text index migration 0012 made: an FTS5
table on SQLite, a GIN index on to_tsvector('simple', prompt) on PostgreSQL. The user's text is
never handed to either query language as it is: it is cut into words (letters and digits), and
each word goes in quoted, so `"`, `AND`, `NEAR(`, `*`, `-` or a stray bracket are words or
nothing, never syntax, and never an error.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from studio.teams.models import Team
from videos.models import Collection, ProviderAccount, Video
from videos.selectors import GalleryPage, annotate_queue_positions, mark_favourites

# The text search configuration of the index and of every query: they must be the same words,
# or PostgreSQL does not use the index (migration 0012 says why 'simple').
SEARCH_CONFIG = "simple"
# Words of a query past this are ignored: each is one more index lookup.
MAX_TERMS = 12
# On SQLite "fo" finds "fox": the last word is a prefix once it is this long (a one-letter
# prefix matches most of the index, and so costs as much as reading it). PostgreSQL: see tsquery.
PREFIX_FROM = 2
# `status=running`: anything that has not ended (queued or under way).
RUNNING = "running"

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class GalleryFilters:
    """What the gallery's query string asks for (videos.forms_gallery.GalleryForm.filters())."""

    q: str = ""
    author: object | None = None  # a User
    status: str = ""  # a Video.Status value, or RUNNING
    account: ProviderAccount | None = None
    model: str = ""
    date_from: date | None = None
    date_to: date | None = None
    fav: bool = False
    collection: Collection | None = None

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


def search_terms(text: str) -> list[str]:
    """The words of `text` the index can match: letters and digits, lower-cased."""
    return _WORD.findall(text.lower())[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH string: every word quoted (so nothing in it is syntax), all required."""
    quoted = [f'"{term}"' for term in terms]
    if terms and len(terms[-1]) >= PREFIX_FROM:
        quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(terms: list[str]) -> str:
    """A to_tsquery string: every word quoted as a lexeme, all required (&). No prefix here:
    PostgreSQL cannot estimate how many rows a prefix matches, guesses 2%, and for a rare word
    walks the team's whole history newest first (2 s at 100,000 videos) instead of the index."""
    return " & ".join(f"'{term}'" for term in terms)


def _search_postgresql(qs, terms: list[str]):
    # Word for word the expression of the index video_prompt_search (migration 0012).
    table = Video._meta.db_table
    sql = (
        f'to_tsvector(\'{SEARCH_CONFIG}\'::regconfig, "{table}"."prompt") '
        f"@@ to_tsquery('{SEARCH_CONFIG}'::regconfig, %s)"
    )
    return qs.filter(RawSQL(sql, [tsquery(terms)], output_field=BooleanField()))


# PostgreSQL's search reads the newest this many of the team's videos first.
RECENT_WINDOW = 500


def _postgresql_rows(qs, *, terms: list[str], size: int) -> list[Video]:
    """A page of a full-text search on PostgreSQL, in one read or two, whatever the words.

    The planner picks between walking the team's videos newest first (right for a common word)
    and the GIN index then a sort (right for a rare one) by its guess of how many rows match,
    and a word missing from its statistics is guessed at several percent: the walk, through the
    whole history for a rare word (1.1 s at 100,000 videos). So: first the newest RECENT_WINDOW
    videos the other filters let through (a common word fills the page there); if not, the
    index, ordered by an expression, which no index can give, so the planner has no walk left."""
    window = qs.order_by("-id").values("id")[:RECENT_WINDOW]
    found = _search_postgresql(qs, terms)
    rows = list(found.filter(id__in=window).order_by("-id")[: size + 1])
    if len(rows) > size:
        return rows
    return list(found.order_by((F("id") + 0).desc())[: size + 1])


def _search_sqlite(qs, terms: list[str], before: int | None):
    """A join to the FTS5 table, ordered by its rowid: FTS5 then reads its matches newest first
    and stops at the page's end. Written as `id IN (SELECT rowid ... MATCH)`, SQLite first
    gathers every match (a common word: the whole history, 23 ms at 100,000 videos, against
    0.1 ms). Only extra() joins a table Django has no model for; the cursor goes to FTS5 too,
    or it would walk the matches above it."""
    table = Video._meta.db_table
    fts = f"{table}_fts"
    where, params = [f"{fts}.rowid = {table}.id", f"{fts} MATCH %s"], [fts5_query(terms)]
    if before is not None:
        where.append(f"{fts}.rowid < %s")
        params.append(before)
    joined = qs.extra(
        select={"search_rowid": f"{fts}.rowid"}, tables=[fts], where=where, params=params
    )
    return joined, "-search_rowid"


def _day_start(day: date) -> datetime:
    """Midnight starting `day` where the studio is (settings.TIME_ZONE)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def gallery_search(
    *, team: Team, user, filters: GalleryFilters, before: int | None = None, size: int = 24
) -> GalleryPage:
    """One page of the team's videos matching `filters`, newest first, out of the Trash.

    Keyset paging (id < cursor) as selectors.gallery_page; each filter is an equality the
    planner can walk an index for: (team, author, -id), (team, status, id), Favourite
    (user, -video), CollectionItem (collection, -video), or the full-text index.
    """
    qs, order = Video.objects.filter(team=team, deleted_at=None), "-id"
    terms = search_terms(filters.q)
    if filters.q and not terms:
        qs = qs.none()  # nothing in it is a word
    elif terms and connection.vendor != "postgresql":
        qs, order = _search_sqlite(qs, terms, before)
    if filters.author is not None:
        qs = qs.filter(author=filters.author)
    if filters.status == RUNNING:
        # Not `status IN (...)`, which SQLite plans as a walk through the team's whole history
        # (133 ms at 100,000 videos; selectors.active_videos): the ids of the few videos not
        # ended, one indexed read per status.
        active = Video.objects.filter(team=team).values_list("id", flat=True)
        qs = qs.filter(id__in=[pk for s in Video.ACTIVE for pk in active.filter(status=s)])
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.account is not None:
        qs = qs.filter(attempt__account=filters.account)
    if filters.model:
        qs = qs.filter(model=filters.model)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.fav:
        qs = qs.filter(favourites__user=user)  # one Favourite per (user, video): no duplicates
    if filters.collection is not None:
        qs = qs.filter(collections=filters.collection)
    if before is not None:
        qs = qs.filter(id__lt=before)
    qs = qs.select_related("author", "attempt__account")
    if terms and connection.vendor == "postgresql":
        rows = _postgresql_rows(qs, terms=terms, size=size)
    else:
        rows = list(qs.order_by(order)[: size + 1])
    videos, more = rows[:size], len(rows) > size
    annotate_queue_positions(team=team, videos=videos)
    mark_favourites(user=user, videos=videos)
    return GalleryPage(videos=videos, next_before=videos[-1].id if more else None)


@dataclass
class FilterChoices:
    members: list
    accounts: list[ProviderAccount]
    collections: list[Collection]
    models: list[str]


# The distinct models of a team's videos, one index probe each on (team, model) (a loose index
# scan): SELECT DISTINCT reads every row of the team's history, 100,000 at 100,000 videos.
_MODELS_USED = f"""
WITH RECURSIVE used(model) AS (
    SELECT MIN(model) FROM {Video._meta.db_table} WHERE team_id = %s AND model > ''
    UNION ALL
    SELECT (SELECT MIN(v.model) FROM {Video._meta.db_table} v WHERE v.team_id = %s
            AND v.model > used.model)
    FROM used WHERE used.model IS NOT NULL
)
SELECT model FROM used WHERE model IS NOT NULL
"""


def filter_choices(*, team: Team) -> FilterChoices:
    """What the toolbar's filters offer: one query each."""
    members = get_user_model().objects.filter(memberships__team=team).order_by("username")
    with connection.cursor() as cursor:
        cursor.execute(_MODELS_USED, [team.pk, team.pk])
        models = [row[0] for row in cursor.fetchall()]
    return FilterChoices(
        members=list(members),
        accounts=list(ProviderAccount.objects.filter(team=team).order_by("name")),
        collections=list(Collection.objects.filter(team=team).order_by("name")),
        models=models,
    )
