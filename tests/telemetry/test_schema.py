from pathlib import Path

import pytest

from apps.telemetry import schema

DOC = (Path(__file__).resolve().parents[2] / "docs" / "telemetry.md").read_text()


def test_the_schema_document_lists_every_measurement_and_field_with_its_unit():
    for spec in schema.MEASUREMENTS.values():
        assert f"### `{spec.name}`" in DOC, f"docs/telemetry.md lacks the measurement {spec.name}"
        for f in spec.fields.values():
            row = f"| `{f.name}` | {f.unit or '—'} |"
            assert row in DOC, f"docs/telemetry.md lacks the row {row!r} under {spec.name}"


@pytest.mark.parametrize(
    ("measurement", "tags", "fields", "message"),
    [
        ("racks", {"site": "p"}, {"power_kw": 1.0}, "unknown measurement 'racks'"),
        ("rack", {"site": "p"}, {"power_kw": 1.0}, "missing tag"),
        ("rack", {"site": "p", "asset": "a", "room": "b"}, {"power_kw": 1.0}, "unknown tag"),
        ("rack", {"site": "p", "asset": "a"}, {"watts": 1.0}, "unknown field 'watts'"),
        ("rack", {"site": "p", "asset": "a"}, {"power_kw": "high"}, "must be a number"),
        ("consumer", {"site": "p"}, {"online": 1.0}, "must be a boolean"),
        ("consumer", {"site": "p"}, {}, "no fields"),
    ],
)
def test_points_outside_the_schema_are_refused_with_the_reason(measurement, tags, fields, message):
    with pytest.raises(schema.SchemaError, match=message):
        schema.validate(measurement, tags, fields)
