"""Serializer base: input may only name fields the client is allowed to write.

A typo (``titel``), a read-only field (``status`` on a version) or a field fixed at creation
(``film`` of a membership, on update) is rejected with a message naming it, rather than being
silently ignored. ``Meta.create_only_fields`` lists fields writable on create but not on update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.db.models import Model, QuerySet
from rest_framework import serializers


class _StrictFields:
    """Refuses, by name, each key of the body that is not a writable field of the serializer (an
    empty key ``""`` included); used by nested serializers too, so it holds at every level."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            create_only = getattr(getattr(self, "Meta", None), "create_only_fields", ())
            errors = {}
            for name in data:
                field = self.fields.get(name)
                if field is None:
                    errors[name] = ["Unknown field."]
                elif field.read_only:
                    fixed = self.instance is not None and name in create_only
                    errors[name] = ["Cannot be changed after creation." if fixed else "Read-only field."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictModelSerializer(_StrictFields, serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            for name in getattr(self.Meta, "create_only_fields", ()):
                fields[name].read_only = True
        return fields


class StrictSerializer(_StrictFields, serializers.Serializer):
    """A plain (non-model) input serializer, as strict as the model ones."""


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name an object the requesting user can see.

    ``selector(user=...)`` gives the visible queryset, so an id from a film the user is not a
    member of reads as "does not exist", exactly like an id that does not exist.
    """

    def __init__(self, *, model: type[Model], selector: Callable[..., QuerySet], **kwargs):
        self.selector = selector
        # The unfiltered queryset only tells the schema generator the model; lookups use get_queryset.
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self):
        return self.selector(user=self.context["request"].user)
