from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from apps.accounts.permissions import EDIT_OWNERSHIP, can
from apps.accounts.selectors import site_visible_or_404

from .choices import Area, Raci
from .services import raci_holders, raci_matrix, raci_replace


@login_required
def raci_grid(request, slug: str):
    """The site's RACI matrix: everyone who may see the site reads it; staff edit it."""
    site = site_visible_or_404(request.user, slug)
    errors = {}
    if request.method == "POST":
        if not can(request.user, EDIT_OWNERSHIP, site):
            raise PermissionDenied("Only the site's administrators change who owns what.")
        grid = {
            area: {role: request.POST.getlist(f"{area}-{role}") for role in Raci.values}
            for area in Area.values
        }
        reason = request.POST.get("reason", "").strip()
        try:
            if not reason:  # who is called for a site's alarms is not changed without a word why
                raise ValidationError({"reason": "Say why ownership changes: the audit log keeps it."})
            raci_replace(site=site, grid=grid, user=request.user, reason=reason)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, "Ownership saved.")
            return redirect("ownership:raci", slug=site.slug)
    matrix = raci_matrix(site)
    holders = raci_holders(site)  # people with access to the site, and teams
    rows = []
    for area, label in Area.choices:
        cells = []
        for role, role_label in Raci.choices:
            if errors:  # show what was submitted, not what is stored
                chosen = set(request.POST.getlist(f"{area}-{role}"))
            else:
                chosen = {f"u:{a.user_id}" if a.user_id else f"t:{a.team_id}" for a in matrix[area][role]}
            options = [(token, name, token in chosen) for token, name in holders]
            cells.append(
                {"role": role, "label": role_label, "assignments": matrix[area][role], "options": options}
            )
        rows.append({"area": area, "label": label, "error": " ".join(errors.get(area, [])), "cells": cells})
    return render(
        request,
        "ownership/raci.html",
        {
            "site": site,
            "rows": rows,
            "roles": Raci.choices,
            "can_edit": can(request.user, EDIT_OWNERSHIP, site),
            "reason_error": " ".join(errors.get("reason", [])),
            "reason": request.POST.get("reason", "") if errors else "",
            "errors": errors,
        },
    )
