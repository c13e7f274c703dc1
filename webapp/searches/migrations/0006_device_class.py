from django.db import migrations, models


class Migration(migrations.Migration):
    """Issue 10 item 2: a search's device class, and the worker and device that run it (existing rows:
    cpu, the only class there was)."""

    dependencies = [("searches", "0005_children")]

    operations = [
        migrations.AddField(model_name="search", name="device_class",
                            field=models.CharField(choices=[("cpu", "CPU"), ("gpu", "GPU")], default="cpu",
                                                   max_length=8)),
        migrations.AddField(model_name="search", name="worker_name",
                            field=models.CharField(blank=True, max_length=200)),
        migrations.AddField(model_name="search", name="device",
                            field=models.CharField(blank=True, max_length=200)),
    ]
