from django.db import models


class SiteKind(models.TextChoices):
    POOL = "pool", "Public pool"
    SCHOOL = "school", "School"
    CARE_HOME = "care_home", "Care home"
    RETAIL = "retail", "Retail unit"
    LIBRARY = "library", "Library"
    RESIDENTIAL = "residential", "Residential block"
    DISTRICT = "district", "District-heating injection"


class HeatSource(models.TextChoices):
    """The heat source that heatops' recovered heat displaces."""

    GAS_BOILER = "gas_boiler", "Gas boiler"
    OIL_BOILER = "oil_boiler", "Oil boiler"
    ELECTRIC = "electric", "Direct electric heating"
    HEAT_PUMP = "heat_pump", "Electric heat pump"
    BIOMASS = "biomass", "Biomass boiler"
    DISTRICT = "district", "District heating"
