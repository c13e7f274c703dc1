"""Transfers (issue 8 item 6): ``Search.transfer_of``, the search whose architecture a run trains elsewhere."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("searches", "0003_controls")]

    operations = [
        migrations.AddField(
            model_name="search",
            name="transfer_of",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="transfers", to="searches.search"),
        ),
    ]
