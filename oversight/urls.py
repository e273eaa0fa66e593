from django.urls import path

from oversight import views

urlpatterns = [
    path("", views.oversight_home, name="oversight"),
    path("inspections/", views.inspection_list, name="inspections"),
    path("inspections/new/", views.inspection_new, name="inspection-new"),
    path("inspections/<int:inspection_id>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:inspection_id>/files/", views.inspection_attach_view, name="inspection-attach"),
    path("inspections/<int:inspection_id>/files/<int:attachment_id>/", views.inspection_file, name="inspection-file"),
    path("violations/", views.violation_list, name="violations"),
    path("violations/new/", views.violation_new, name="violation-new"),
    path("violations/<int:violation_id>/", views.violation_detail, name="violation-detail"),
    path("violations/<int:violation_id>/<str:action>/", views.violation_action, name="violation-action"),
    path("commendations/", views.commendation_list, name="commendations"),
    path("commendations/new/", views.commendation_new, name="commendation-new"),
    path("staff-report/", views.staff_report, name="staff-report"),
    path("staff-report/<str:username>/<str:figure>/", views.staff_evidence, name="staff-evidence"),
]
