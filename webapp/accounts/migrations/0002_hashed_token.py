"""API tokens: store a SHA-256 of each key instead of the key (existing keys keep working)."""

import hashlib

from django.db import migrations, models


def hash_existing(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.all():
        token.key_hash = hashlib.sha256(token.key.encode()).hexdigest()
        token.prefix = token.key[:8]
        token.save(update_fields=["key_hash", "prefix"])


class Migration(migrations.Migration):

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField("apitoken", "key_hash", models.CharField(max_length=64, null=True)),
        migrations.AddField("apitoken", "prefix", models.CharField(blank=True, max_length=8)),
        migrations.RunPython(hash_existing, migrations.RunPython.noop),
        migrations.RemoveField("apitoken", "key"),
        migrations.AlterField("apitoken", "key_hash", models.CharField(max_length=64, unique=True)),
    ]
