from django.contrib import admin

from videos.models import PromptImage, ProviderAccount, Video


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
