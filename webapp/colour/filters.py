"""Query-string filters of scenes, grades, grade decisions and references."""

from __future__ import annotations

import django_filters

from webapp.colour.models import Grade, GradeDecision, GradeReference, GradeSource, GradeStatus, GradeVerdict, Scene


class SceneFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")

    class Meta:
        model = Scene
        fields = ["film"]


class GradeFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    shot = django_filters.NumberFilter(field_name="shot_id", label="Grades of this shot (not its scene's)")
    scene = django_filters.NumberFilter(field_name="scene_id")
    status = django_filters.MultipleChoiceFilter(choices=GradeStatus.choices, distinct=False)
    source = django_filters.MultipleChoiceFilter(choices=GradeSource.choices, distinct=False)
    fit_job = django_filters.NumberFilter(field_name="fit_job_id", label="The grade a fit job made")

    class Meta:
        model = Grade
        fields = ["film", "shot", "scene", "status", "source", "fit_job"]


class GradeDecisionFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="grade__film_id")
    grade = django_filters.NumberFilter(field_name="grade_id")
    verdict = django_filters.MultipleChoiceFilter(choices=GradeVerdict.choices, distinct=False)

    class Meta:
        model = GradeDecision
        fields = ["film", "grade", "verdict"]


class GradeReferenceFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    shot = django_filters.NumberFilter(field_name="shot_id")
    grade = django_filters.NumberFilter(field_name="grade_id")

    class Meta:
        model = GradeReference
        fields = ["film", "shot", "grade"]
