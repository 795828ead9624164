from django.urls import path

from . import views

app_name = "business"

urlpatterns = [
    path("sites/<slug:slug>/business-case/", views.business_case_page, name="business_case"),
    path("sites/<slug:slug>/business-case/edit/", views.business_case_edit, name="business_case_edit"),
    path("sites/<slug:slug>/business-case.csv", views.business_case_csv, name="business_case_csv"),
]
