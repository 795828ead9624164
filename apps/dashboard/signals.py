"""Apps above the dashboard add to its pages without the dashboard importing them."""

from django.dispatch import Signal

# sent by the site page with ``site`` and ``user``; each receiver returns a line of safe
# HTML for the page's header ("last drill: 3 of 6 passed, 30 Nov 2026") or ""
site_page_notes = Signal()
