from django.contrib import admin

from videos.models import Attempt, PromptImage, ProviderAccount, Video


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "max_jobs", "enabled", "last_error_at"]
    list_filter = ["kind", "enabled"]
    # Credentials are write-only: never rendered back, not even to superusers.
    exclude = ["credentials"]


class AttemptInline(admin.TabularInline):
    model = Attempt
    fk_name = "video"
    extra = 0
    can_delete = False
    fields = ["number", "account", "outcome", "upstream_id", "created_at", "finished_at", "error"]
    readonly_fields = fields
    # The callback token is a secret in a URL MiniMax calls: not shown.


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "author", "status", "percent", "account", "created_at"]
    list_filter = ["status", "team"]
    raw_id_fields = [
        "author",
        "image",
        "last_image",
        "subject_image",
        "attempt",
        "requested_account",
    ]
    search_fields = ["prompt"]
    inlines = [AttemptInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("attempt__account")


@admin.register(PromptImage)
class PromptImageAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "uploader", "format", "width", "height", "bytes"]
