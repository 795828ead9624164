from django.conf import settings


def live(request):
    """What every page's script needs to judge the age of a number."""
    return {"stale_after_s": int(settings.HEATOPS_STALE_AFTER_S)}
