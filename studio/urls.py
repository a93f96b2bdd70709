from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.teams import signin
from studio.teams.forms import ResetForm

urlpatterns = [
    path("login/", signin.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "settings/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            form_class=ResetForm,
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        signin.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("v1/", include("studio.api.api")),
    path("", include("videos.urls")),
    path("", include("studio.teams.urls")),
    path("", include("studio.api.urls")),
    path("", include("studio.webhooks.urls")),
    path("", include("studio.ops.urls")),
]

# 403 is Django's handler with the studio's template, 404 Django's behind a guard; 400 and 500
# render without the request, so without reading the database (see studio/views.py).
handler400 = "studio.views.bad_request"
handler404 = "studio.views.page_not_found"
handler500 = "studio.views.server_error"
