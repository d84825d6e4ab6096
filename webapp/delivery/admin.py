from django.contrib import admin

from webapp.delivery.models import Deliverable


@admin.register(Deliverable)
class DeliverableAdmin(admin.ModelAdmin):
    list_display = ("id", "film", "kind", "codec", "sound", "status", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = ("md5", "sha256", "shots", "asset", "job")
