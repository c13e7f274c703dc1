from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="WorkerBeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("hostname", models.CharField(max_length=200)),
                ("pid", models.PositiveIntegerField(default=0)),
                ("queues", models.JSONField(default=list)),
                ("device_class", models.CharField(blank=True, max_length=8)),
                ("gpus", models.CharField(blank=True, max_length=100)),
                ("started_at", models.DateTimeField()),
                ("seen_at", models.DateTimeField(db_index=True)),
            ],
            options={"ordering": ["name"]},
        ),
    ]
