"""The admin site, scoped to the sites a person may see.

Staff with view or change permissions see the admin of every model, but only the rows of
their own sites: every ModelAdmin registered here whose model belongs to a site (a
foreign key (or one-to-one field) to Site, directly or through one relation, e.g. an alarm event through its
alarm) is made site-scoped when it is registered, so no admin can forget it:

- its queryset holds the rows of ``sites_visible_to(user)`` only (rows of no site, such as
  installation-wide webhooks or log-in locks in the audit log, are for superusers);
- its list filters on relations offer only values present in those rows (no other
  site's name);
- foreign-key and many-to-many choices in its forms (and inlines) are limited the same
  way, so nothing can be attached to another site;
- view, change and delete permission is refused for another site's object.

Personal API tokens and calendar feeds belong to a person rather than a site: non-superusers see and issue
only their own. Superusers see everything. Models with neither (teams, runbooks, users)
are the same for every staff member.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import Model, QuerySet
from django.db.models.base import ModelBase

from apps.accounts.selectors import sites_visible_to

# Models scoped by the person they belong to rather than a site: model label -> field.
PERSONAL = {"accounts.personaltoken": "user", "ownership.calendarfeed": "user"}


def site_path(model: type[Model]) -> str | None:
    """The lookup from ``model`` to its Site ("pk" for Site itself), or None."""
    from apps.sites.models import Site

    if model is Site:
        return "pk"
    forward = [
        f for f in model._meta.get_fields() if f.concrete and (f.many_to_one or f.one_to_one) and f.related_model
    ]
    for field in forward:
        if field.related_model is Site:
            return field.name
    for field in forward:
        for inner in field.related_model._meta.get_fields():
            if inner.concrete and (inner.many_to_one or inner.one_to_one) and inner.related_model is Site:
                return f"{field.name}__{inner.name}"
    return None


def scoped_queryset(model: type[Model], request, queryset: QuerySet | None = None) -> QuerySet:
    """``queryset`` (default: all of ``model``) limited to what the request's user may see."""
    queryset = model._default_manager.all() if queryset is None else queryset
    user = request.user
    if user.is_superuser:
        return queryset
    personal = PERSONAL.get(model._meta.label_lower)
    if personal:
        return queryset.filter(**{personal: user})
    path = site_path(model)
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": sites_visible_to(user)})


def _is_scoped(model: type[Model]) -> bool:
    return model._meta.label_lower in PERSONAL or site_path(model) is not None


class ScopedChoicesMixin:
    """Form fields of a ModelAdmin or inline offer only what the user may see."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and _is_scoped(db_field.related_model):
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request)
        if (
            "queryset" not in kwargs
            and not request.user.is_superuser
            and PERSONAL.get(self.model._meta.label_lower) == db_field.name
        ):
            kwargs["queryset"] = db_field.related_model._default_manager.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and _is_scoped(db_field.related_model):
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SiteScopedAdminMixin(ScopedChoicesMixin):
    """Mixed into every registered ModelAdmin of a site-scoped model (HeatopsAdminSite)."""

    def get_queryset(self, request):
        return scoped_queryset(self.model, request, super().get_queryset(request))

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            return filters
        out = []
        for entry in filters:
            if isinstance(entry, str) and self._is_relation(entry):
                entry = (entry, RelatedOnlyFieldListFilter)  # values present in the user's rows
            out.append(entry)
        return out

    def _is_relation(self, path: str) -> bool:
        model, field = self.model, None
        for name in path.split("__"):
            field = model._meta.get_field(name)
            model = field.related_model
            if model is None:
                return False
        return bool(field and field.is_relation)

    def _in_scope(self, request, obj) -> bool:
        return (
            obj is None or request.user.is_superuser or self.get_queryset(request).filter(pk=obj.pk).exists()
        )

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)


def scoped_admin_class(model: type[Model], admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """``admin_class`` made site-scoped for ``model`` (its inlines' choices too)."""
    inlines = [
        inline
        if issubclass(inline, ScopedChoicesMixin)
        else type(inline.__name__, (ScopedChoicesMixin, inline), {})
        for inline in admin_class.inlines
    ]
    bases = (SiteScopedAdminMixin, admin_class) if _is_scoped(model) else (ScopedChoicesMixin, admin_class)
    return type(admin_class.__name__, bases, {"inlines": inlines, "__module__": admin_class.__module__})


class HeatopsAdminSite(admin.AdminSite):
    site_header = "heatops administration"
    site_title = "heatops"
    index_title = "Sites, assets and configuration"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        for model in models:
            super().register(model, scoped_admin_class(model, admin_class), **options)
