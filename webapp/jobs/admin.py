"""Admin for restoration jobs: for looking, mostly; state changes belong to the workers."""

from django.contrib import admin

from webapp.jobs.models import RestorationJob


@admin.register(RestorationJob)
class RestorationJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "film", "shot", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["film__title", "message", "error", "celery_task_id"]
    raw_id_fields = ["film", "shot", "parent", "result_version", "created_by"]
    list_select_related = ["film", "shot__film", "created_by"]
    readonly_fields = ["created_at", "started_at", "finished_at", "celery_task_id", "attempts"]
    show_full_result_count = False
