"""Row locks in services, against the real PostgreSQL: two writers at once keep the rules.

SQLite serialises writers anyway, so these run in the integration layer only.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from tests.webapp.factories import FilmFactory, MembershipFactory, ShotFactory
from webapp.catalogue.models import Membership, ShotVersion
from webapp.catalogue.services import membership_delete, version_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_while_holding(first, second):
    """Run ``first`` in a transaction kept open until ``second`` (another thread) has had time to
    block on its locks; then commit ``first`` and let ``second`` finish. Returns their outcomes."""
    outcomes: dict[str, object] = {}
    first_done_work = threading.Event()
    release_first = threading.Event()

    def outcome(name, work):
        try:
            outcomes[name] = work()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcomes[name] = error
        finally:
            connection.close()

    def holder():
        def work():
            with transaction.atomic():
                result = first()
                first_done_work.set()
                release_first.wait(timeout=10)
                return result

        outcome("first", work)

    def contender():
        first_done_work.wait(timeout=10)
        outcome("second", second)

    threads = [threading.Thread(target=holder), threading.Thread(target=contender)]
    for thread in threads:
        thread.start()
    first_done_work.wait(timeout=10)
    threads[1].join(timeout=0.5)
    blocked = threads[1].is_alive()  # the contender must be waiting for the holder's lock
    release_first.set()
    for thread in threads:
        thread.join(timeout=10)
    return outcomes, blocked


def test_versions_created_at_once_get_distinct_numbers():
    shot = ShotFactory(film=FilmFactory(), number=1)
    outcomes, blocked = run_while_holding(
        lambda: version_create(shot=shot, author=None).number,
        lambda: version_create(shot=shot, author=None).number,
    )
    assert blocked
    assert outcomes == {"first": 1, "second": 2}
    assert sorted(ShotVersion.objects.filter(shot=shot).values_list("number", flat=True)) == [1, 2]


def test_two_archivists_leaving_at_once_leave_one_behind():
    film = FilmFactory()
    first, second = (MembershipFactory(film=film, role="archivist") for _ in range(2))
    outcomes, blocked = run_while_holding(
        lambda: membership_delete(membership=first),
        lambda: membership_delete(membership=second),
    )
    assert blocked
    assert outcomes["first"] is None
    assert isinstance(outcomes["second"], ValidationError)
    assert list(Membership.objects.filter(film=film).values_list("pk", flat=True)) == [second.pk]
