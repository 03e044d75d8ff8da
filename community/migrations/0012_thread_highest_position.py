from django.db import migrations, models

# Every thread's highest position is that of its last post today (a deleted last reply's number
# was free until now; from here on it stays taken).
BACKFILL = """
UPDATE community_thread t SET highest_position = last.position
FROM (SELECT thread_id, max(position) AS position FROM community_post GROUP BY thread_id) last
WHERE last.thread_id = t.id
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
