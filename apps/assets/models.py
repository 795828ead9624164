from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from apps.sites.models import Site
from apps.telemetry import schema

from .choices import ALLOWED_PARENTS, DEFAULT_MEASUREMENT, REQUIRED_LIMITS, AssetKind

POSITIVE = [MinValueValidator(0.0)]
MEASUREMENT_CHOICES = [(name, name) for name in schema.MEASUREMENTS]


class Asset(models.Model):
    """A piece of plant or IT at a site, bound to its series in InfluxDB."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="assets")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The asset this one sits in, for example the rack of a node.",
    )
    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=60, help_text="Unique within the site; the 'asset' tag of its InfluxDB series."
    )
    manufacturer = models.CharField(max_length=120, blank=True)
    model_number = models.CharField("model", max_length=120, blank=True)
    serial_number = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    # rated limits (blank where they do not apply to the kind)
    rated_power_kw = models.FloatField(
        "rated power (kW)",
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text="Maximum electrical power (racks, nodes, PDUs, pumps, heat pumps) or heat (exchangers, dry coolers).",
    )
    max_supply_temp_c = models.FloatField("max supply temperature (°C)", null=True, blank=True)
    max_return_temp_c = models.FloatField("max return temperature (°C)", null=True, blank=True)
    max_inlet_temp_c = models.FloatField("max inlet temperature (°C)", null=True, blank=True)
    min_flow_m3h = models.FloatField("min flow (m³/h)", null=True, blank=True, validators=POSITIVE)
    max_flow_m3h = models.FloatField("max flow (m³/h)", null=True, blank=True, validators=POSITIVE)
    volume_l = models.FloatField("volume (litres)", null=True, blank=True, validators=POSITIVE)

    # binding to InfluxDB
    measurement = models.CharField(
        max_length=40,
        blank=True,
        choices=MEASUREMENT_CHOICES,
        help_text="Left blank, the kind's own measurement is used (docs/telemetry.md).",
    )
    series_tags = models.JSONField(
        default=dict,
        blank=True,
        help_text='Tags selecting this asset\'s series; left empty: {"site": <site slug>, "asset": <asset slug>}.',
    )
    series_field = models.CharField(
        max_length=60, blank=True, help_text="For a sensor bound to one field of a shared series."
    )

    class Meta:
        ordering = ["site__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "slug"],
                name="asset_slug_unique_per_site",
                violation_error_message="This site already has an asset with that slug; choose another.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        measurement, tags = self.default_binding()
        self.measurement = measurement
        if not self.series_tags:
            self.series_tags = tags
        super().save(*args, **kwargs)

    # binding ----------------------------------------------------------------------------

    def default_binding(self) -> tuple[str, dict[str, str]]:
        measurement = self.measurement or DEFAULT_MEASUREMENT[AssetKind(self.kind)]
        tags = {"site": self.site.slug}
        if "asset" in schema.MEASUREMENTS[measurement].tags:
            tags["asset"] = self.slug
        return measurement, tags

    @property
    def series_key(self) -> str:
        """The series in InfluxDB's own notation, for people reading the admin."""
        tags = ",".join(f"{k}={v}" for k, v in sorted(self.series_tags.items()))
        key = f"{self.measurement},{tags}" if tags else self.measurement
        return f"{key} ({self.series_field})" if self.series_field else key

    # validation -------------------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}

        def add(field_name: str, message: str) -> None:
            errors.setdefault(field_name, []).append(message)

        if self.parent_id:
            if self.pk and self.parent_id == self.pk:
                add("parent", "An asset cannot sit inside itself.")
            elif self.site_id and self.parent.site_id != self.site_id:
                add("parent", f"The parent '{self.parent}' belongs to another site.")
            else:
                allowed = ALLOWED_PARENTS.get(self.kind)
                if allowed and self.parent.kind not in allowed:
                    names = ", ".join(AssetKind(k).label.lower() for k in allowed)
                    add(
                        "parent",
                        f"A {self.get_kind_display().lower()} sits in a {names}, not a {self.parent.get_kind_display().lower()}.",
                    )
                node, seen = self.parent, set()
                while node is not None and self.pk:
                    if node.pk == self.pk or node.pk in seen:
                        add("parent", "That parent would make a loop of assets containing each other.")
                        break
                    seen.add(node.pk)
                    node = node.parent

        for field_name in REQUIRED_LIMITS.get(self.kind, ()):
            if getattr(self, field_name) in (None, ""):
                label = self._meta.get_field(field_name).verbose_name
                add(field_name, f"A {self.get_kind_display().lower()} needs its {label}.")
        for field_name in ("rated_power_kw", "max_flow_m3h", "volume_l"):
            value = getattr(self, field_name)
            if value is not None and value <= 0:
                add(field_name, "Must be above zero.")
        if (
            self.min_flow_m3h is not None
            and self.max_flow_m3h is not None
            and self.min_flow_m3h >= self.max_flow_m3h
        ):
            add(
                "max_flow_m3h",
                f"Max flow ({self.max_flow_m3h} m³/h) must be above min flow ({self.min_flow_m3h} m³/h).",
            )
        for field_name in ("max_supply_temp_c", "max_return_temp_c", "max_inlet_temp_c"):
            value = getattr(self, field_name)
            if value is not None and not -20 <= value <= 120:
                add(field_name, f"{value} °C is outside what water or air plant reaches (-20 to 120 °C).")

        if self.site_id and self.kind:
            self._clean_binding(add)
        if errors:
            raise ValidationError(errors)

    def _clean_binding(self, add) -> None:
        measurement, default_tags = self.default_binding()
        spec = schema.MEASUREMENTS.get(measurement)
        if spec is None:
            add("measurement", f"Unknown measurement '{measurement}'.")
            return
        tags = self.series_tags or default_tags
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            add(
                "series_tags",
                'Tags are an object of text values, for example {"site": "pool", "asset": "rack-1"}.',
            )
            return
        missing = [t for t in spec.tags if not tags.get(t)]
        if missing:
            add("series_tags", f"The measurement '{measurement}' needs the tag(s): {', '.join(missing)}.")
        unknown = sorted(set(tags) - set(spec.tags))
        if unknown:
            add("series_tags", f"The measurement '{measurement}' has no tag(s): {', '.join(unknown)}.")
        if tags.get("site") and tags["site"] != self.site.slug:
            add("series_tags", f"The site tag must be this asset's site, '{self.site.slug}'.")
        if self.series_field and self.series_field not in spec.fields:
            add(
                "series_field",
                f"The measurement '{measurement}' has no field '{self.series_field}' "
                f"(it has {', '.join(spec.fields)}).",
            )
