from functools import partial

from .selectors import request_sites


def visible_sites(request):
    """``visible_sites``: the sites the nav lists, read only when a template iterates them
    (a template calls a callable it is given)."""
    return {"visible_sites": partial(request_sites, request)}
