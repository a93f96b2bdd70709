from django.contrib import admin

from videos.models import (
    ApiToken,
    Invite,
    Membership,
    PromptImage,
    ProviderAccount,
    Team,
    Video,
    WebhookDelivery,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "api_strict", "created_at"]
    inlines = [MembershipInline]
    # The signing secrets are shown to the team's admins on its Webhooks page, not here.
    exclude = ["webhook_secret", "webhook_secret_previous"]


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "max_jobs", "enabled", "last_error_at"]
    list_filter = ["kind", "enabled"]
    # Credentials are write-only: never rendered back, not even to superusers.
    exclude = ["credentials"]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "author", "status", "percent", "account", "created_at"]
    list_filter = ["status", "team"]
    raw_id_fields = ["author", "image", "last_image", "account", "requested_account"]
    search_fields = ["prompt"]


@admin.register(PromptImage)
class PromptImageAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "uploader", "format", "width", "height", "bytes"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["label", "team", "role", "created_at", "expires_at", "accepted_at"]
    exclude = ["token_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "team", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["team"]
    exclude = ["token_hash"]
    raw_id_fields = ["user"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "event", "state", "attempts", "last_status", "created_at"]
    list_filter = ["state", "event"]
    raw_id_fields = ["video"]
