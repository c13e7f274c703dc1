from django.db import migrations

LANGUAGE_SPACES = ("enas-rnn", "nas-rl-rnn", "lstm")
# searchcore.training.language_settings.LANGUAGE_FINAL_SCHEMA's names, as of this migration
LANGUAGE_FINAL_KEYS = ("budget_seconds", "epochs", "batch_size", "plan", "init", "lr", "weight_decay",
                       "grad_clip", "bptt", "hidden_size", "dropout_words", "dropout_embedding",
                       "dropout_hidden", "dropout_output")
# the image defaults a language search stored before its kind had its own settings (issue 9); the
# trainer silently replaced them with ENAS' then, so left out they keep meaning what they meant
IMAGE_DEFAULTS = {"lr": 0.05, "weight_decay": 3e-4, "grad_clip": 5.0}


def language_final(final: dict) -> dict:
    """A stored language ``final`` section without image settings and image-default optimiser values."""
    kept = {k: v for k, v in final.items() if k in LANGUAGE_FINAL_KEYS}
    return {k: v for k, v in kept.items() if not (k in IMAGE_DEFAULTS and v == IMAGE_DEFAULTS[k])}


def forwards(apps, schema_editor):
    Search = apps.get_model("searches", "Search")
    for search in Search.objects.all().only("pk", "config").iterator():
        config = search.config if isinstance(search.config, dict) else {}
        final = config.get("final")
        if config.get("space") not in LANGUAGE_SPACES or not isinstance(final, dict):
            continue
        cleaned = language_final(final)
        if cleaned != final:
            Search.objects.filter(pk=search.pk).update(config={**config, "final": cleaned})


class Migration(migrations.Migration):
    """Language searches stored before each task kind had its own final-training settings held the
    image section (drop path, cutout, lr 0.05, ...), which a re-run would now refuse: keep only the
    language settings (issue 9)."""

    dependencies = [("searches", "0006_device_class")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
