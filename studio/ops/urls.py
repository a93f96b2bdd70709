from django.urls import path

from studio.ops import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
]
