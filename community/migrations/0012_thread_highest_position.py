from django.db import migrations, models

# Every thread's highest position is that of its last post today (a deleted last reply's number
# was free until now; from here on it stays taken).
# Plain SQL that PostgreSQL and SQLite (the embedded mode of `make run`) both take.
BACKFILL = """
UPDATE community_thread SET highest_position = COALESCE(
    (SELECT max(position) FROM community_post WHERE community_post.thread_id = community_thread.id),
    highest_position)
"""


class Migration(migrations.Migration):

    dependencies = [
        ("community", "0011_thread_read_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="thread",
            name="highest_position",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
