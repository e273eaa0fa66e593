"""The department report lives beside the other reports, under /reports/."""

from django.urls import path

from oversight import views

urlpatterns = [
    path("", views.department_report, name="report-departments"),
    path("export.<str:fmt>", views.department_report_export, name="report-departments-export"),
]
