"""The gallery's search and filters (videos/search.py): from the URL, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import make_video
from videos import search
from videos.models import Collection, CollectionItem, Favourite, ProviderAccount, Video

HTMX = {"HTTP_HX_REQUEST": "true"}
GRID = {**HTMX, "HTTP_HX_TARGET": "gallery-grid"}


def _cards(response) -> list[int]:
    """The ids of the video cards a gallery response shows, top to bottom."""
    html = response.content.decode()
    ids, start = [], 0
    while (at := html.find('id="video-', start)) != -1:
        end = html.index('"', at + 10)
        ids.append(int(html[at + 10 : end]))
        start = end
    return ids


def _gallery(user, **params):
    response = client_for(user).get(reverse("gallery"), params)
    assert response.status_code == 200, response.content[:500]
    return response


def _shown(user, **params) -> list[int]:
    return _cards(_gallery(user, **params))


# Search


def test_q_finds_videos_by_the_words_of_their_prompt_newest_first(cast):
    fox = make_video(cast.acme, cast.bob, prompt="A red fox jumps over a frozen river")
    make_video(cast.acme, cast.bob, prompt="Neon street at night, slow dolly")
    fox2 = make_video(cast.acme, cast.alice, prompt="The fox sleeps in the snow")
    assert _shown(cast.bob, q="fox") == [fox2.pk, fox.pk]
    assert _shown(cast.bob, q="FOX snow") == [fox2.pk], "every word must match, any case"
    assert _shown(cast.bob, q="snow fox") == [fox2.pk], "in any order"


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_on_sqlite_the_last_word_of_q_matches_as_a_prefix(cast):
    fox = make_video(cast.acme, cast.bob, prompt="A red fox jumps")
    four = make_video(cast.acme, cast.bob, prompt="Four horses")
    assert _shown(cast.bob, q="fo") == [four.pk, fox.pk]
    assert _shown(cast.bob, q="red fo") == [fox.pk]
    assert _shown(cast.bob, q="fox jum") == [fox.pk]


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"fox',
        "fox AND",
        "OR",
        "NEAR(fox",
        "*",
        "fox*",
        "-fox",
        "fox -",
        "(fox",
        "fox)",
        "prompt:fox",
        "^fox",
        "'",
        "fox's",
        "a & b | !c",
        "fox:*",
        "\\",
        "%_",
        "🦊",
        "　",
        "x" * 200,
    ],
)
def test_query_syntax_in_q_never_errors(cast, text):
    make_video(cast.acme, cast.bob, prompt="A red fox jumps, AND OR NEAR")
    response = client_for(cast.bob).get(reverse("gallery"), {"q": text})
    assert response.status_code == 200
    response = client_for(cast.bob).get(reverse("gallery"), {"q": text}, **GRID)
    assert response.status_code == 200


def test_words_that_are_query_syntax_are_searched_as_words(cast):
    both = make_video(cast.acme, cast.bob, prompt="Salt AND pepper, NEAR the sea")
    make_video(cast.acme, cast.bob, prompt="Salt flats")
    assert _shown(cast.bob, q="salt AND") == [both.pk]
    assert _shown(cast.bob, q='"near"') == [both.pk]


def test_q_without_a_single_word_matches_nothing(cast):
    make_video(cast.acme, cast.bob, prompt="A red fox")
    response = _gallery(cast.bob, q="***")
    assert _cards(response) == []
    assert b"No videos match these filters." in response.content


def test_search_terms_and_the_query_strings_quote_every_word():
    terms = search.search_terms('Fox "AND" near(x) -y_z *')
    assert terms == ["fox", "and", "near", "x", "y", "z"]
    assert search.fts5_query(terms) == '"fox" "and" "near" "x" "y" "z"'
    assert search.fts5_query(["red", "fo"]) == '"red" "fo"*'
    assert search.tsquery(["red", "fo"]) == "'red' & 'fo'"


# Filters


def test_author_filters_by_a_members_username_or_mine(cast):
    by_bob = make_video(cast.acme, cast.bob)
    by_alice = make_video(cast.acme, cast.alice)
    assert _shown(cast.bob, author="bob") == [by_bob.pk]
    assert _shown(cast.bob, author="alice") == [by_alice.pk]
    assert _shown(cast.bob, author="mine") == [by_bob.pk]
    assert _shown(cast.alice, author="mine") == [by_alice.pk]


def test_status_filters_by_a_status_and_running_by_any_not_ended(cast):
    done = make_video(cast.acme, cast.bob, status="completed")
    failed = make_video(cast.acme, cast.bob, status="failed")
    queued = make_video(cast.acme, cast.bob, status="queued")
    rendering = make_video(cast.acme, cast.bob, status="processing")
    assert _shown(cast.bob, status="completed") == [done.pk]
    assert _shown(cast.bob, status="failed") == [failed.pk]
    assert _shown(cast.bob, status="running") == [rendering.pk, queued.pk]


def test_account_filters_by_the_account_that_made_the_video(cast):
    local = ProviderAccount.objects.get(team=cast.acme)
    remote = ProviderAccount.objects.create(team=cast.acme, name="Studio key", kind="minimax")
    on_local = make_video(cast.acme, cast.bob, account=local)
    on_remote = make_video(cast.acme, cast.bob, account=remote)
    make_video(cast.acme, cast.bob)  # queued: no account yet
    assert _shown(cast.bob, account=local.pk) == [on_local.pk]
    assert _shown(cast.bob, account=str(remote.pk)) == [on_remote.pk]


def test_model_filters_by_the_model_asked_for(cast):
    hailuo = make_video(cast.acme, cast.bob, model="MiniMax-Hailuo-02")
    make_video(cast.acme, cast.bob, model="T2V-01")
    assert _shown(cast.bob, model="MiniMax-Hailuo-02") == [hailuo.pk]
    assert _shown(cast.bob, model="Nothing-like-it") == []


def _made_on(video: Video, day: dt.date, hour: int = 12) -> Video:
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())
    Video.objects.filter(pk=video.pk).update(created_at=moment)
    return video


def test_from_and_to_are_whole_days_both_included(cast):
    first = _made_on(make_video(cast.acme, cast.bob), dt.date(2026, 11, 1), hour=0)
    second = _made_on(make_video(cast.acme, cast.bob), dt.date(2026, 11, 15), hour=23)
    third = _made_on(make_video(cast.acme, cast.bob), dt.date(2026, 11, 16))
    assert _shown(cast.bob, **{"from": "2026-11-01", "to": "2026-11-15"}) == [second.pk, first.pk]
    assert _shown(cast.bob, **{"from": "2026-11-15"}) == [third.pk, second.pk]
    assert _shown(cast.bob, to="2026-11-01") == [first.pk]
    assert _shown(cast.bob, **{"from": "2026-11-16", "to": "2026-11-16"}) == [third.pk]


def test_fav_shows_only_the_viewers_own_favourites(cast):
    starred = make_video(cast.acme, cast.alice)
    alices = make_video(cast.acme, cast.alice)
    make_video(cast.acme, cast.alice)
    Favourite.objects.create(user=cast.bob, video=starred)
    Favourite.objects.create(user=cast.alice, video=alices)
    assert _shown(cast.bob, fav="1") == [starred.pk]
    assert _shown(cast.alice, fav="1") == [alices.pk]


def test_collection_shows_the_collections_videos(cast):
    reel = Collection.objects.create(team=cast.acme, name="Showreel", created_by=cast.alice)
    inside = make_video(cast.acme, cast.bob)
    make_video(cast.acme, cast.bob)
    CollectionItem.objects.create(collection=reel, video=inside, added_by=cast.alice)
    assert _shown(cast.bob, collection=reel.pk) == [inside.pk]


def test_filters_combine(cast):
    reel = Collection.objects.create(team=cast.acme, name="Showreel")
    hit = make_video(cast.acme, cast.bob, prompt="A red fox", status="completed", model="T2V-01")
    near_misses = [
        make_video(cast.acme, cast.alice, prompt="A red fox", status="completed", model="T2V-01"),
        make_video(cast.acme, cast.bob, prompt="A red fox", status="failed", model="T2V-01"),
        make_video(cast.acme, cast.bob, prompt="A blue whale", status="completed", model="T2V-01"),
        make_video(cast.acme, cast.bob, prompt="A red fox", status="completed", model="I2V-01"),
        make_video(cast.acme, cast.bob, prompt="A red fox", status="completed", model="T2V-01"),
    ]
    for video in [hit, *near_misses[:4]]:
        CollectionItem.objects.create(collection=reel, video=video)
        Favourite.objects.create(user=cast.bob, video=video)
    params = {"q": "fox", "author": "mine", "status": "completed", "model": "T2V-01"}
    params |= {"fav": "1", "collection": reel.pk, "from": timezone.localdate().isoformat()}
    assert _shown(cast.bob, **params) == [hit.pk]


def test_unknown_parameters_are_ignored(cast):
    video = make_video(cast.acme, cast.bob)
    assert _shown(cast.bob, colour="red", page="2", utm_source="mail") == [video.pk]


def test_empty_parameters_are_no_filter(cast):
    video = make_video(cast.acme, cast.bob)
    params = {name: "" for name in ("q", "author", "status", "account", "model", "from", "to")}
    assert _shown(cast.bob, **params, fav="", collection="") == [video.pk]


# Paging, the Trash and other teams


def test_older_pages_keep_the_filters(cast, conf):
    conf.GALLERY_PAGE_SIZE = 2
    foxes = [make_video(cast.acme, cast.bob, prompt=f"fox number {i}") for i in range(5)]
    for _ in range(3):
        make_video(cast.acme, cast.bob, prompt="a whale")
    first = _gallery(cast.bob, q="fox")
    assert _cards(first) == [foxes[4].pk, foxes[3].pk]
    link = f"/?q=fox&amp;before={foxes[3].pk}"
    assert first.content.decode().count(link) == 2, "the link and the infinite scroll"
    second = client_for(cast.bob).get("/", {"q": "fox", "before": foxes[3].pk}, **HTMX)
    assert _cards(second) == [foxes[2].pk, foxes[1].pk]
    last = client_for(cast.bob).get("/", {"q": "fox", "before": foxes[1].pk}, **HTMX)
    assert _cards(last) == [foxes[0].pk] and b"before=" not in last.content


def test_trashed_videos_are_not_found(cast):
    kept = make_video(cast.acme, cast.bob, prompt="fox kept")
    make_video(cast.acme, cast.bob, prompt="fox binned", deleted_at=timezone.now())
    assert _shown(cast.bob, q="fox") == [kept.pk]
    assert _shown(cast.bob, author="mine") == [kept.pk]


def test_another_teams_videos_never_show(cast):
    ours = make_video(cast.acme, cast.bob, prompt="fox ours")
    make_video(cast.other, cast.charlie, prompt="fox theirs")
    assert _shown(cast.bob, q="fox") == [ours.pk]


@pytest.mark.parametrize("name", ["collection", "account"])
def test_another_teams_collection_or_account_is_refused_not_shown(cast, name):
    theirs = make_video(cast.other, cast.charlie, prompt="charlie's secret")
    if name == "collection":
        other = Collection.objects.create(team=cast.other, name="Charlie's")
        CollectionItem.objects.create(collection=other, video=theirs)
    else:
        other = ProviderAccount.objects.get(team=cast.other)
        Video.objects.filter(pk=theirs.pk).delete()
        theirs = make_video(cast.other, cast.charlie, prompt="charlie's secret", account=other)
    client = client_for(cast.bob)
    response = client.get("/", {name: other.pk}, follow=True)
    page = response.content.decode()
    assert f"Not a valid filter ({name}=&#x27;{other.pk}&#x27;: no " in page
    assert "of this team has that id), so it is left out." in page
    assert "charlie&#x27;s secret" not in page
    response = client.get("/", {name: other.pk}, **GRID)
    assert response.status_code == 400 and b"charlie" not in response.content


def test_a_member_of_another_team_is_not_an_author(cast):
    make_video(cast.other, cast.charlie, prompt="charlie's secret")
    response = client_for(cast.bob).get("/", {"author": "charlie"}, follow=True)
    assert b"no member of this team has that username" in response.content
    assert b"charlie&#x27;s secret" not in response.content


# Bad values


@pytest.mark.parametrize(
    "params, message",
    [
        ({"author": "zed"}, "author='zed': no member of this team has that username"),
        ({"status": "done"}, "status='done': not a status; use one of queued, submitting"),
        ({"account": "abc"}, "account='abc': an account is named by its id, a whole number"),
        ({"account": "99999"}, "account='99999': no account of this team has that id"),
        ({"collection": "-1"}, "collection='-1': Ensure this value is greater than or equal"),
        ({"collection": "1e3"}, "collection='1e3': a collection is named by its id"),
        ({"from": "03/12/2026"}, "from='03/12/2026': not a date; write it as YYYY-MM-DD"),
        ({"to": "2026-02-30"}, "to='2026-02-30': not a date; write it as YYYY-MM-DD"),
        ({"to": "9999-12-31"}, "to='9999-12-31': give a year from 1970 to 9998"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to='2026-12-01': is before from=2026-12-02"),
        ({"fav": "yes"}, "fav='yes': use fav=1 for your favourites, or leave it out"),
        ({"q": "x" * 201}, "q='xxx"),
        ({"model": "m" * 41}, "model='mmm"),
    ],
)
def test_a_bad_value_is_named_with_what_to_fix_and_left_out(cast, params, message):
    video = make_video(cast.acme, cast.bob, prompt="still here")
    client = client_for(cast.bob)
    response = client.get("/", {**params, "status_ok": "1"})
    assert response.status_code == 302
    page = client.get(response.url)
    assert page.status_code == 200 and _cards(page) == [video.pk]
    text = page.content.decode().replace("&#x27;", "'")
    assert message in text and "so it is left out." in text
    fragment = client.get("/", params, **GRID)
    assert fragment.status_code == 400
    assert fragment.content.decode().startswith("Not a valid filter (")
    assert message in fragment.content.decode()


def test_a_bad_value_keeps_the_good_filters(cast):
    make_video(cast.acme, cast.alice, prompt="fox by alice")
    mine = make_video(cast.acme, cast.bob, prompt="fox by bob")
    response = client_for(cast.bob).get("/", {"q": "fox", "author": "mine", "status": "nope"})
    assert response.status_code == 302 and response.url == "/?q=fox&author=mine"
    assert _shown(cast.bob, q="fox", author="mine") == [mine.pk]


# The toolbar


def test_the_toolbar_offers_the_teams_members_accounts_collections_and_models(cast):
    Collection.objects.create(team=cast.acme, name="Showreel")
    Collection.objects.create(team=cast.other, name="Charlie's picks")
    make_video(cast.acme, cast.bob, model="T2V-01")
    make_video(cast.other, cast.charlie, model="I2V-01-live")
    page = _gallery(cast.bob).content.decode()
    page = page[page.index('id="gallery-filters"') :]
    page = page[: page.index("</form>")]
    assert '<option value="mine" >Mine</option>' in page.replace("  ", " ")
    assert '<option value="alice"' in page and '<option value="bob"' in page
    assert '<option value="charlie"' not in page
    assert "Showreel" in page and "Charlie" not in page
    assert '<option value="T2V-01"' in page and "I2V-01-live" not in page
    assert 'type="search"' in page and 'name="q"' in page


def test_the_toolbar_shows_each_active_filter_with_a_link_that_removes_it(cast):
    make_video(cast.acme, cast.bob, prompt="fox", status="completed")
    page = _gallery(cast.bob, q="fox", status="completed", author="mine").content.decode()
    assert "“fox”" in page and ">Completed<" in page and ">Mine<" in page
    assert 'href="/?author=mine&amp;status=completed"' in page, "without q"
    assert 'href="/?q=fox&amp;author=mine"' in page, "without status"
    assert 'class="chips-clear" href="/"' in page
    assert 'value="fox"' in page and 'value="completed" selected' in page


def test_no_match_says_so_and_offers_to_clear(cast):
    make_video(cast.acme, cast.bob, prompt="A whale")
    page = _gallery(cast.bob, q="fox").content.decode()
    assert "No videos match these filters." in page and "No videos yet" not in page
    assert '<a href="/">Clear filters</a>' in page


def test_the_toolbars_htmx_request_gets_the_results_the_chips_and_a_clean_url(cast):
    fox = make_video(cast.acme, cast.bob, prompt="fox")
    make_video(cast.acme, cast.bob, prompt="whale")
    response = client_for(cast.bob).get("/?q=fox&author=&status=&fav=", **GRID)
    assert response.status_code == 200 and _cards(response) == [fox.pk]
    assert response["HX-Push-Url"] == "/?q=fox"
    body = response.content.decode()
    assert 'id="filter-chips"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body and 'id="new-video"' not in body
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_and_boosted_requests_get_the_whole_page(cast):
    make_video(cast.acme, cast.bob, prompt="fox")
    client = client_for(cast.bob)
    restore = client.get("/?q=fox", **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in restore.content and b'value="fox"' in restore.content


def test_the_slash_shortcut_is_announced(cast):
    page = _gallery(cast.bob).content.decode()
    assert 'aria-keyshortcuts="/"' in page and "filters.js" in page


# The full-text index


def _fts_ids(word: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM videos_video_fts WHERE videos_video_fts MATCH %s ORDER BY rowid",
            [f'"{word}"'],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_sqlite_index_follows_inserts_edits_and_deletes(cast):
    video = make_video(cast.acme, cast.bob, prompt="An otter floats")
    assert _fts_ids("otter") == [video.pk]
    video.prompt = "A beaver builds"
    video.save()
    assert _fts_ids("otter") == [] and _fts_ids("beaver") == [video.pk]
    Video.objects.filter(pk=video.pk).update(status="completed")  # prompt unchanged
    assert _fts_ids("beaver") == [video.pk]
    video.delete()
    assert _fts_ids("beaver") == []
    with connection.cursor() as cursor:  # FTS5's own consistency check raises if out of step
        cursor.execute("INSERT INTO videos_video_fts(videos_video_fts) VALUES ('integrity-check')")


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_sqlite_index_is_written_in_the_same_transaction(cast):
    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        make_video(cast.acme, cast.bob, prompt="A walrus yawns")
        assert len(_fts_ids("walrus")) == 1
        raise Abandon
    assert _fts_ids("walrus") == []


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_the_sqlite_index_triggers_exist_after_every_migration(db):
    """A migration that rebuilds videos_video (SQLite alters a column so) drops its triggers;
    this fails until that migration makes them again (see migration 0012)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name=%s", ["videos_video"]
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "videos_video_fts_insert",
        "videos_video_fts_update",
        "videos_video_fts_delete",
    } <= names


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_searches_through_the_gin_index(cast):
    make_video(cast.acme, cast.bob, prompt="A red fox")
    qs = search._search_postgresql(Video.objects.all(), ["fox"])
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "video_prompt_search" in plan, plan
