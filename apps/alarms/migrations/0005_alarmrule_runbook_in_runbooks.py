"""An alarm rule's runbook is now runbooks.Runbook: the same table, so state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alarms", "0004_alarm_in_maintenance"),
        ("runbooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="alarmrule",
                    name="runbook",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The runbook an incident with this alarm suggests.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="rules",
                        to="runbooks.runbook",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
