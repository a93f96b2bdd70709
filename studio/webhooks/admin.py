from django.contrib import admin

from studio.webhooks.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "event", "state", "attempts", "last_status", "created_at"]
    list_filter = ["state", "event"]
    raw_id_fields = ["video"]
