"""Colour in the admin: read-only (grades and decisions are the colour record; scenes are edited
through the API, which checks ranges)."""

from django.contrib import admin

from webapp.api.admin_base import ReadOnlyAdmin
from webapp.colour.models import Grade, GradeDecision, GradeReference, Scene, VersionGrade


@admin.register(Scene)
class SceneAdmin(ReadOnlyAdmin):
    list_display = ["id", "film", "name", "first_number", "last_number", "source"]
    list_filter = ["source"]


@admin.register(Grade)
class GradeAdmin(ReadOnlyAdmin):
    list_display = ["id", "film", "shot", "scene", "number", "source", "status", "created_at"]
    list_filter = ["status", "source"]
    exclude = ["lut"]


@admin.register(GradeDecision)
class GradeDecisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "grade", "reviewer", "role", "verdict", "created_at"]
    list_filter = ["verdict", "role"]


@admin.register(GradeReference)
class GradeReferenceAdmin(ReadOnlyAdmin):
    list_display = ["id", "film", "shot", "frame", "still", "version", "grade"]


@admin.register(VersionGrade)
class VersionGradeAdmin(ReadOnlyAdmin):
    list_display = ["version", "grade", "mode", "recorded_at"]
