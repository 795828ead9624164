from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [path("sites/<slug:slug>/audit/", views.audit_log, name="audit_log")]
