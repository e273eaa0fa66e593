from django.urls import path

from departments import views

urlpatterns = [
    path("tester/", views.routing_tester, name="routing-tester"),
]
