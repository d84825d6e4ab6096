"""The dev tools live in their own app (webapp.devtools) under the same command names."""

import pytest
from django.core.management import get_commands, load_command_class

from webapp.devtools.celery_app import celery_app

DEVTOOLS_COMMANDS = ("demo", "seed_catalogue", "bench_catalogue", "bench_jobs", "bench_review")


@pytest.mark.parametrize("name", DEVTOOLS_COMMANDS)
def test_each_dev_tool_command_is_found_under_its_old_name_in_the_devtools_app(name):
    assert get_commands()[name] == "webapp.devtools"
    assert load_command_class("webapp.devtools", name).help


def test_the_dev_tools_drive_the_projects_celery_app_without_importing_config():
    from webapp.config.celery import app

    assert celery_app() is app
