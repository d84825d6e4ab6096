"""Admin classes for records the admin may show but never write: the API and the services are
the one way they change (``ReadOnlyAdmin``), or they are history nobody deletes either
(``RecordAdmin``)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecordAdmin(ReadOnlyAdmin):
    def has_delete_permission(self, request, obj=None):
        return False
