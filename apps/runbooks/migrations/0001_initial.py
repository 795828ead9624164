"""Runbooks move here from the incidents app. Their tables keep their names
(incidents_runbook, incidents_runbookversion), so this migration only takes them over in
Django's state and moves their content types (and so their permissions) to this app."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def adopt_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("runbook", "runbookversion"):
        if not ContentType.objects.filter(app_label="runbooks", model=model).exists():
            ContentType.objects.filter(app_label="incidents", model=model).update(app_label="runbooks")


def give_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="runbooks", model__in=["runbook", "runbookversion"]).update(
        app_label="incidents"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Runbook",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("slug", models.SlugField(unique=True)),
                        ("title", models.CharField(max_length=120)),
                        (
                            "priority_class",
                            models.CharField(
                                choices=[
                                    ("plant", "Plant protection"),
                                    ("heat", "Heat continuity"),
                                    ("service", "Service continuity"),
                                ],
                                max_length=10,
                            ),
                        ),
                    ],
                    options={"ordering": ["title"], "db_table": "incidents_runbook"},
                ),
                migrations.CreateModel(
                    name="RunbookVersion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.PositiveIntegerField()),
                        (
                            "safe_state",
                            models.TextField(
                                help_text="The state to bring the plant to first, in plain words."
                            ),
                        ),
                        (
                            "steps",
                            models.JSONField(
                                help_text='Ordered steps: [{"text": "...", "role": "R"}, ...] (role: R, A, C or I).'
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "runbook",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="versions",
                                to="runbooks.runbook",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["runbook", "number"],
                        "db_table": "incidents_runbookversion",
                        "constraints": [
                            models.UniqueConstraint(fields=("runbook", "number"), name="runbook_version_once")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(adopt_content_types, give_content_types_back),
    ]
