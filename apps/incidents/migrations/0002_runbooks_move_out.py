"""Runbooks now live in the runbooks app (same tables): incidents point at them there and
drop them from their own state. Nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
        ("runbooks", "0001_initial"),
        ("alarms", "0005_alarmrule_runbook_in_runbooks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="incident",
                    name="runbooks",
                    field=models.ManyToManyField(
                        blank=True, related_name="incidents", to="runbooks.runbookversion"
                    ),
                ),
                migrations.AlterField(
                    model_name="stepdone",
                    name="version",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="runbooks.runbookversion",
                    ),
                ),
                migrations.DeleteModel(name="RunbookVersion"),
                migrations.DeleteModel(name="Runbook"),
            ],
            database_operations=[],
        ),
    ]
