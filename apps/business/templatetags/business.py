from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def figure(value, unit: str = ""):
    """A planned or measured figure as the page shows it ('—' when unknown)."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{100 * value:.1f} %"
    return number_format(round(value), force_grouping=True)
