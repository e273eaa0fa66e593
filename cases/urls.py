from django.urls import path

from cases import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<str:reference>/", views.case_detail, name="case-detail"),
    path("triage/", views.triage, name="triage"),
    path("triage/<str:reference>/route/", views.triage_route, name="triage-route"),
]
