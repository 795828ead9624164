"""The default "Consumer not absorbing heat" rule of existing sites gets its "unless": the
dry cooler open and the primary supply steady is safe degrade, not an alarm. Only rules
still holding the three default conditions are changed; edited ones are left alone."""

from django.db import migrations

OLD = [
    {"measurement": "loop", "field": "return_temp_c", "tags": {"loop": "primary"}, "op": "rising", "value": 0.2},
    {"measurement": "tank", "field": "soc_pct", "tags": {}, "op": ">=", "value": 95},
    {"measurement": "facility", "field": "it_power_kw", "tags": {}, "op": "steady", "value": 2.0},
]
UNLESS = {
    "unless": [
        {"measurement": "dry_cooler", "field": "active", "tags": {}, "op": ">=", "value": 1},
        {"measurement": "loop", "field": "supply_temp_c", "tags": {"loop": "primary"}, "op": "steady", "value": 0.3},
    ]
}


def forwards(apps, schema_editor):
    AlarmRule = apps.get_model("alarms", "AlarmRule")
    for rule in AlarmRule.objects.filter(name="Consumer not absorbing heat", kind="compound"):
        if rule.conditions == OLD:
            rule.conditions = [*OLD, UNLESS]
            rule.save(update_fields=["conditions"])


def backwards(apps, schema_editor):
    AlarmRule = apps.get_model("alarms", "AlarmRule")
    for rule in AlarmRule.objects.filter(name="Consumer not absorbing heat", kind="compound"):
        if rule.conditions == [*OLD, UNLESS]:
            rule.conditions = OLD
            rule.save(update_fields=["conditions"])


class Migration(migrations.Migration):
    dependencies = [("alarms", "0006_alarmnotification")]

    operations = [migrations.RunPython(forwards, backwards)]
