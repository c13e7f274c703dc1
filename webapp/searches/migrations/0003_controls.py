"""Control runs of a search (issue 7 item 7): ``Search.control_of`` and ``Search.role``, one per role."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("searches", "0002_engine_config")]

    operations = [
        migrations.AddField(
            model_name="search",
            name="control_of",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="controls", to="searches.search"),
        ),
        migrations.AddField(
            model_name="search",
            name="role",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddConstraint(
            model_name="search",
            constraint=models.UniqueConstraint(condition=models.Q(("role", ""), _negated=True),
                                               fields=("control_of", "role"), name="one_control_per_role"),
        ),
    ]
