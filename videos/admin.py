from django.contrib import admin

from videos.models import Invite, Membership, PromptImage, ProviderAccount, Team, Video


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    inlines = [MembershipInline]


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
    raw_id_fields = ["author", "image", "account"]
    search_fields = ["prompt"]


@admin.register(PromptImage)
class PromptImageAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "uploader", "format", "width", "height", "bytes"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["label", "team", "role", "created_at", "expires_at", "accepted_at"]
    exclude = ["token_hash"]
