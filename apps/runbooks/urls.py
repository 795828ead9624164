from django.urls import path

from . import views

app_name = "runbooks"

urlpatterns = [
    path("runbooks/", views.runbook_list, name="runbook_list"),
    path("runbooks/<int:pk>/", views.runbook_detail, name="runbook_detail"),
]
