"""A shot's stored transitions: which frames a restore treats one by one."""

from __future__ import annotations

import pytest

from tests.webapp import jobs_fixtures
from tests.webapp.jobs_fixtures import CHEAP_SPEC
from webapp.catalogue.models import Shot
from webapp.catalogue.selectors import shot_transition_spans
from webapp.jobs import services
from webapp.jobs.services import job_run

pytestmark = pytest.mark.django_db

shots = jobs_fixtures.shots
sent_messages = jobs_fixtures.sent_messages


def test_a_shot_has_the_frames_of_its_own_and_the_next_shots_gradual_transitions(shots):
    first, second = shots  # frames 0-3 and 4-7 of one scan
    assert shot_transition_spans(shot=first) == [] and shot_transition_spans(shot=second) == []
    Shot.objects.filter(pk=second.pk).update(transition_in={"type": "dissolve", "start_frame": 2, "end_frame": 5})
    first.refresh_from_db()
    second.refresh_from_db()
    assert shot_transition_spans(shot=first) == [(2, 3)]
    assert shot_transition_spans(shot=second) == [(4, 5)]
    Shot.objects.filter(pk=second.pk).update(transition_in={"type": "cut", "start_frame": 4, "end_frame": 4})
    first.refresh_from_db()
    assert shot_transition_spans(shot=first) == []


def test_restoring_a_shot_runs_its_transition_frames_one_by_one(shots, sent_messages, monkeypatch):
    from restoration import pipeline

    Shot.objects.filter(pk=shots[1].pk).update(transition_in={"type": "fade", "start_frame": 2, "end_frame": 5})
    real = pipeline.run_pipeline
    seen = []

    def run(frames, spec, **kwargs):
        result = real(frames, spec, **kwargs)
        seen.append([(p.start_frame, p.end_frame, p.frame_by_frame) for p in result.shots])
        return result

    monkeypatch.setattr(pipeline, "run_pipeline", run)
    job = services.job_create(film=shots[0].film, kind="restore", shot=shots[0], created_by=None,
                              params={"spec": CHEAP_SPEC})
    assert job_run(job_id=job.pk).status == "succeeded"
    assert seen == [[(0, 1, False), (2, 3, True)]]  # shot-local frames
