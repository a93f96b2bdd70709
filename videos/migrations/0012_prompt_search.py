"""Full-text search over prompts (the gallery's ?q=, videos/search.py).

PostgreSQL: a GIN index on the expression to_tsvector('simple', prompt). The query repeats the
expression word for word (videos.search.SEARCH_CONFIG), or the planner cannot use the index.
'simple' and not 'english': prompts are written in many languages, and 'simple' (lower-cased
words, no stemming, no stop words) finds on PostgreSQL what SQLite's FTS5 finds (its unicode61
tokenizer does not stem either), so a search means the same on both databases (but for SQLite's
prefix on the last word: videos.search.tsquery says why PostgreSQL has none).

SQLite: an FTS5 table with external content (it stores only the index; the text stays in
videos_video), kept in step by triggers, so an insert, an edit of the prompt or a delete updates
the index in the same transaction as the row. Django drops a table's triggers when it rebuilds
the table (SQLite's way of altering a column), so a later migration that rebuilds videos_video
must run these statements again; tests/videos/test_search.py checks that the triggers exist.

Neither is in the models' state: Django knows neither expression indexes over a function with a
config argument on both databases nor virtual tables.
"""

from django.db import migrations, models

SQLITE_CREATE = [
    # prefix='2 3': "fo" and "fox" as the last word of a query (a prefix) read a prefix index
    # instead of every word that starts so.
    "CREATE VIRTUAL TABLE videos_video_fts USING fts5("
    "prompt, content='videos_video', content_rowid='id', prefix='2 3')",
    "CREATE TRIGGER videos_video_fts_insert AFTER INSERT ON videos_video BEGIN "
    "INSERT INTO videos_video_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    # FTS5 removes a row from an external-content index given the text it indexed.
    "CREATE TRIGGER videos_video_fts_delete AFTER DELETE ON videos_video BEGIN "
    "INSERT INTO videos_video_fts(videos_video_fts, rowid, prompt) "
    "VALUES ('delete', old.id, old.prompt); END",
    # Every save() writes every column: only a changed prompt touches the index.
    "CREATE TRIGGER videos_video_fts_update AFTER UPDATE OF prompt ON videos_video "
    "WHEN old.prompt IS NOT new.prompt BEGIN "
    "INSERT INTO videos_video_fts(videos_video_fts, rowid, prompt) "
    "VALUES ('delete', old.id, old.prompt); "
    "INSERT INTO videos_video_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    "INSERT INTO videos_video_fts(videos_video_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS videos_video_fts_insert",
    "DROP TRIGGER IF EXISTS videos_video_fts_delete",
    "DROP TRIGGER IF EXISTS videos_video_fts_update",
    "DROP TABLE IF EXISTS videos_video_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX video_prompt_search ON videos_video "
    "USING gin (to_tsvector('simple'::regconfig, prompt))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS video_prompt_search"]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0011_workspace"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="video",
            index=models.Index(fields=["team", "model", "-id"], name="video_team_model"),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
