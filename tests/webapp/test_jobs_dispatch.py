"""Restore jobs for one shot: dispatch on commit, the run as a service, failure, cancel, the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.webapp import jobs_fixtures
from tests.webapp.factories import ShotFactory
from tests.webapp.jobs_fixtures import CHEAP_SPEC, HEIGHT, WIDTH, files_under, media_files
from webapp.catalogue.models import MediaAsset, ShotVersion
from webapp.jobs import lifecycle, runner, runtime, services
from webapp.jobs.kinds import restore
from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_cancel, job_restore_dispatch, job_run

pytestmark = pytest.mark.django_db

# Shared fixtures (tests/webapp/jobs_fixtures.py), made visible to pytest in this module.
sent_messages = jobs_fixtures.sent_messages
shots = jobs_fixtures.shots


def test_dispatch_makes_a_pending_row_and_enqueues_only_on_commit(film, member, shots, sent_messages,
                                                                   django_capture_on_commit_callbacks):
    restorer = member(film, "restorer")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = job_restore_dispatch(shot=shots[1], user=restorer, spec=CHEAP_SPEC)
        assert sent_messages == []  # nothing leaves before the row is committed
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert sent_messages == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)]
    assert (job.kind, job.status, job.shot, job.params) == ("restore", "pending", shots[1], {"spec": CHEAP_SPEC})


def test_restores_go_to_the_gpu_queue_and_the_rest_to_the_cpu_queue(film, shots, sent_messages,
                                                                    django_capture_on_commit_callbacks):
    from webapp.config.celery import app
    from webapp.jobs.registry import queue_for, registered

    # Each kind declares its queue; there is no routing by task name any more.
    assert {kind: runner.queue for kind, runner in registered().items()} == {
        "restore": "gpu", "analyse": "cpu", "proxies": "cpu", "deliver": "cpu", "grade_fit": "cpu"}
    assert not app.conf.task_routes
    # The one task is sent on the queue of the job's kind.
    with django_capture_on_commit_callbacks(execute=True):
        jobs = [services.job_create(film=film, kind=kind, shot=shots[0] if kind == "restore" else None,
                                    created_by=None, params={"spec": CHEAP_SPEC})
                for kind in ("restore", "analyse", "proxies", "deliver")]
        services.jobs_enqueue_on_commit(jobs)
    assert sent_messages == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id) for job in jobs]
    assert sent_messages.queues == ["gpu", "cpu", "cpu", "cpu"] == [queue_for(job.kind) for job in jobs]
    # And Celery's router keeps the queue given with the message.
    assert app.amqp.router.route({"queue": "gpu"}, JOB_RUN_TASK)["queue"].name == "gpu"


def test_a_benchmark_can_send_a_kind_to_a_queue_of_its_own_for_a_while(film, shots, sent_messages,
                                                                         django_capture_on_commit_callbacks):
    from webapp.jobs.registry import queue_for, queue_redirected

    with queue_redirected("restore", "bench-1"), django_capture_on_commit_callbacks(execute=True):
        job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None,
                                  params={"spec": CHEAP_SPEC})
        services.jobs_enqueue_on_commit([job])
    assert sent_messages.queues == ["bench-1"]
    assert queue_for("restore") == "gpu" and queue_for("analyse") == "cpu"  # restored after the block


def test_running_the_job_publishes_one_version_with_its_file(film, member, shots, media_root, monkeypatch):
    monkeypatch.setattr(runtime, "PROGRESS_INTERVAL_S", 0.0)
    events = []
    for module in (runner, runtime, lifecycle):  # every module that tells listeners of a job
        monkeypatch.setattr(module, "job_announce", lambda job, kind: events.append((kind, job.frames_done)))
    restorer = member(film, "restorer")
    job = services.job_create(film=film, kind="restore", shot=shots[1], created_by=restorer,
                              params={"spec": CHEAP_SPEC})
    job = job_run(job_id=job.pk)
    assert (job.status, job.attempts, job.frames_total, job.frames_done, job.progress) == ("succeeded", 1, 4, 4, 1.0)
    assert job.started_at <= job.finished_at and job.error == ""
    version = job.result_version
    assert (version.shot, version.status, version.author, version.pipeline_spec) == (
        shots[1], "in_review", restorer, CHEAP_SPEC)
    version.shot.refresh_from_db()
    assert version.shot.status == "in_review"
    asset = version.media
    assert (asset.kind, asset.frame_count, asset.width, asset.height) == ("mezzanine", 4, WIDTH, HEIGHT)
    assert media_files(media_root) == {"assets/test/scan.mkv", asset.file.name}
    # Review previews of the version, rendered by the job: every frame at the review height
    # (the scan's own 48 lines: no upscaled proxies) and a filmstrip.
    assert files_under(media_root) - media_files(media_root) == {
        *(f"proxies/{asset.pk}/48/{i:06d}.jpg" for i in range(4)), f"proxies/{asset.pk}/filmstrip-0-4.jpg"}
    assert asset.size_bytes == (media_root / asset.file.name).stat().st_size > 0
    assert events[0] == ("job.progress", 0) and events[-1] == ("job.finished", 4)
    assert ("job.progress", 4) in events

    # A second delivery of the same message (acks_late) changes nothing.
    again = job_run(job_id=job.pk)
    assert (again.status, again.attempts, again.result_version) == ("succeeded", 1, version)
    assert ShotVersion.objects.count() == 1 and MediaAsset.objects.filter(kind="mezzanine").count() == 1
    assert len(media_files(media_root)) == 2


def test_the_restored_frames_are_the_pipelines_output(film, shots):
    from restoration.io import read_frames
    from restoration.pipeline import run_pipeline

    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job = job_run(job_id=job.pk)
    expected = run_pipeline(read_frames(shots[0].source.file.path, 0, 4), CHEAP_SPEC, fps=24.0).frames
    stored = read_frames(job.result_version.media.file.path)
    assert stored.shape == expected.shape and (stored - expected).abs().max() <= 1 / 255 + 1e-6


def test_a_failing_pipeline_fails_the_job_and_leaves_nothing(film, shots, media_root, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("GPU on fire\nsecond line")

    monkeypatch.setattr("restoration.pipeline.run_pipeline", explode)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job = job_run(job_id=job.pk)
    assert (job.status, job.error, job.result_version) == ("failed", "RuntimeError: GPU on fire", None)
    assert job.finished_at is not None
    assert not ShotVersion.objects.exists() and not MediaAsset.objects.filter(kind="mezzanine").exists()
    assert files_under(media_root) == {"assets/test/scan.mkv"}


def test_a_failure_while_recording_the_version_removes_the_file(film, shots, media_root, monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("database said no")

    monkeypatch.setattr(restore, "version_publish", refuse)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job = job_run(job_id=job.pk)
    assert job.status == "failed" and "database said no" in job.error
    assert not ShotVersion.objects.exists() and not MediaAsset.objects.filter(kind="mezzanine").exists()
    assert files_under(media_root) == {"assets/test/scan.mkv"}


def test_cancel_before_running_means_it_never_runs(film, shots, media_root):
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job_cancel(job=job)
    job = job_run(job_id=job.pk)
    assert (job.status, job.attempts, job.started_at) == ("cancelled", 0, None)
    assert files_under(media_root) == {"assets/test/scan.mkv"} and not ShotVersion.objects.exists()


def test_cancel_while_running_stops_and_removes_the_partial_file(film, shots, media_root, monkeypatch):
    from restoration import pipeline

    real = pipeline.run_pipeline

    def cancel_midway(source, spec, *, progress, **kwargs):
        def report(done, total):
            if done > 0:
                job_cancel(job=RestorationJob.objects.get(pk=job.pk))
            progress(done, total)

        return real(source, spec, progress=report, window=2, **kwargs)

    monkeypatch.setattr(pipeline, "run_pipeline", cancel_midway)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job = job_run(job_id=job.pk)
    assert (job.status, job.attempts, job.result_version) == ("cancelled", 1, None)
    assert files_under(media_root) == {"assets/test/scan.mkv"} and not ShotVersion.objects.exists()


def test_a_finished_job_cannot_be_cancelled(film, shots):
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job_run(job_id=job.pk)
    with pytest.raises(ValidationError):
        job_cancel(job=job)


# The API ------------------------------------------------------------------------------------


@pytest.fixture
def no_enqueue(sent_messages):
    return sent_messages


@pytest.mark.parametrize("body", [{"preset": "film"}, {"preset": "clean"}, {"pipeline": CHEAP_SPEC}])
def test_restorer_starts_a_restore_job(film, member, client_for, shots, no_enqueue, body,
                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(film, "restorer")).post("/api/jobs/", {"shot": shots[0].pk, **body},
                                                              format="json")
    assert response.status_code == 201, response.json()
    job = RestorationJob.objects.get()
    assert (response.json()["id"], response.json()["status"], job.kind) == (job.pk, "pending", "restore")
    # Stored with the ops' defaults written out, so the version records exactly what ran.
    deflicker = {"op": "deflicker", "params": {"radius": 4, "strength": 1.0, "contrast": False}}
    expected = {"film": {"ops": "analysis"}, "clean": None, None: {"ops": [deflicker]}}[body.get("preset")]
    if body.get("preset") == "clean":
        assert [step["op"] for step in job.params["spec"]["ops"]] == ["denoise", "dust", "scratch", "deflicker"]
        assert job.params["spec"]["ops"][3] == deflicker
    else:
        assert job.params["spec"] == expected
    assert no_enqueue == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)]


@pytest.mark.parametrize("role", ["viewer", "creator"])
def test_viewers_and_creators_cannot_start_restore_jobs(film, member, client_for, shots, no_enqueue, role):
    response = client_for(member(film, role)).post("/api/jobs/", {"shot": shots[0].pk, "preset": "clean"},
                                                    format="json")
    assert response.status_code == 403
    assert not RestorationJob.objects.exists() and no_enqueue == []


def test_a_shot_of_a_film_you_are_not_a_member_of_does_not_exist(film, other_film, member, client_for, shots,
                                                                   no_enqueue):
    # Like every id in a body (test_access_matrix): "does not exist", the same as a made-up id.
    client = client_for(member(other_film, "archivist"))
    response = client.post("/api/jobs/", {"shot": shots[0].pk, "preset": "clean"}, format="json")
    assert response.status_code == 400 and "does not exist" in response.json()["detail"]
    assert not RestorationJob.objects.exists()


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"pipeline": {"ops": [{"op": "paint"}]}}, "pipeline", "ops[0].op"),
        ({"pipeline": {"ops": [], "speed": 2}}, "pipeline", "speed"),
        ({"pipeline": [1]}, "pipeline", "JSON object"),
        ({"pipeline": {"ops": [{"op": "denoise"}] * 1000}}, "pipeline", "1000 steps (at most 32)"),
        ({"pipeline": {"ops": [], "note": "x" * 70000}}, "pipeline", "bytes of JSON (at most 65536)"),
        ({"preset": "sepia"}, "preset", "sepia"),
        ({}, "non_field_errors", "either"),
        ({"preset": "clean", "pipeline": CHEAP_SPEC}, "non_field_errors", "either"),
        ({"preset": "clean", "priority": 1}, "priority", "Unknown"),
    ],
)
def test_bad_restore_requests_are_400_naming_the_field(film, member, client_for, shots, no_enqueue, body, field,
                                                       words):
    response = client_for(member(film, "archivist")).post("/api/jobs/", {"shot": shots[0].pk, **body},
                                                           format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"] and words in str(response.json()["fields"][field])
    assert not RestorationJob.objects.exists() and no_enqueue == []


def test_a_shot_without_a_source_cannot_be_restored(film, member, client_for, no_enqueue):
    shot = ShotFactory(film=film)
    response = client_for(member(film, "restorer")).post("/api/jobs/", {"shot": shot.pk, "preset": "clean"},
                                                          format="json")
    assert response.status_code == 400 and "source" in str(response.json()["fields"]["shot"])
    assert not RestorationJob.objects.exists()


def test_cancel_through_the_api(film, other_film, member, client_for, shots):
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    assert client_for(member(other_film, "archivist")).post(f"/api/jobs/{job.pk}/cancel/").status_code == 404
    assert client_for(member(film, "viewer")).post(f"/api/jobs/{job.pk}/cancel/").status_code == 403
    restorer = client_for(member(film, "restorer"))
    response = restorer.post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = restorer.post(f"/api/jobs/{job.pk}/cancel/")
    assert again.status_code == 400 and "already finished" in str(again.json())


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_the_job_from_the_gpu_queue(film, member, shots, media_root):
    import time

    from django.db import OperationalError

    from webapp.devtools.demo import embedded_worker

    restorer = member(film, "restorer")
    with embedded_worker(queues=("gpu",)):
        job = job_restore_dispatch(shot=shots[0], user=restorer, spec=CHEAP_SPEC)  # autocommit: sent at once
        deadline = time.monotonic() + 180  # a bound for a stuck worker, not a timing: a loaded CI box is slow
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                job.refresh_from_db()
            except OperationalError:  # SQLite's shared in-memory test database: the worker is writing
                continue
            if job.is_finished:
                break
    assert (job.status, job.error) == ("succeeded", "")
    assert job.celery_task_id and job.result_version.status == "in_review"
    assert (media_root / job.result_version.media.file.name).is_file()


def test_the_film_preset_runs_the_analysis_on_the_shots_frames(film, shots):
    spec = services.restore_spec_resolve(preset="film")
    job = services.job_create(film=film, kind="restore", shot=shots[1], created_by=None, params={"spec": spec})
    job = job_run(job_id=job.pk)
    assert (job.status, job.error) == ("succeeded", "")
    version = job.result_version
    assert version.media.frame_count == 4
    # The version records the ops the analysis chose, not "analysis": what was done, re-runnable.
    from restoration.pipeline import validate_spec

    ops = version.pipeline_spec["ops"]
    assert isinstance(ops, list) and validate_spec(version.pipeline_spec).to_dict() == version.pipeline_spec
    names = " → ".join(step["op"] for step in ops) or "no repair needed"
    assert version.notes == f"Restored by job {job.pk}: {names} (chosen by the analysis)."


def test_a_stale_run_never_writes_over_a_newer_attempt(film, shots, media_root, monkeypatch):
    """A run whose job was started again meanwhile (its message redelivered while it still went on)
    stops without a version, without touching the row, and leaves no file."""
    from restoration import pipeline

    real = pipeline.run_pipeline

    def redelivered_midway(source, spec, *, progress, **kwargs):
        def report(done, total):
            if done > 0:  # another worker took the job over: a newer attempt owns the row
                RestorationJob.objects.filter(pk=job.pk).update(attempts=2, message="attempt 2 running")
            progress(done, total)

        return real(source, spec, progress=report, window=2, **kwargs)

    monkeypatch.setattr(pipeline, "run_pipeline", redelivered_midway)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    after = job_run(job_id=job.pk)
    assert (after.status, after.attempts, after.message, after.finished_at) == ("running", 2, "attempt 2 running", None)
    assert not ShotVersion.objects.exists() and media_files(media_root) == {"assets/test/scan.mkv"}


def test_a_restarted_job_removes_the_partial_files_of_its_dead_attempt(film, shots, media_root):
    scratch = media_root / "tmp" / "jobs"
    scratch.mkdir(parents=True)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    other = services.job_create(film=film, kind="restore", shot=shots[1], created_by=None, params={"spec": CHEAP_SPEC})
    dead = [scratch / f"job{job.pk}-dead0001.mkv", scratch / f".job{job.pk}-dead0001.mkv.abc.partial"]
    someone_elses = scratch / f"job{other.pk}-alive001.mkv"
    for path in (*dead, someone_elses):
        path.write_bytes(b"partial")
    RestorationJob.objects.filter(pk=job.pk).update(status="running", attempts=1)  # its worker died
    assert job_run(job_id=job.pk).status == "succeeded"
    assert sorted(p.name for p in scratch.iterdir()) == [someone_elses.name]


def test_a_kind_registers_once_with_a_known_kind_and_queue():
    import dataclasses

    from webapp.jobs.registry import JobRunner, register, runner_for

    restore_runner = runner_for("restore")
    assert register(restore_runner) is restore_runner  # a module imported again: the same runner
    with pytest.raises(ValueError, match="already has a runner"):
        register(dataclasses.replace(restore_runner, run=lambda job, leftovers: None))
    with pytest.raises(ValueError, match="Unknown job kind 'ingest'"):
        register(JobRunner(kind="ingest", queue="cpu", dispatch=len, run=lambda job, leftovers: None))
    with pytest.raises(ValueError, match="queue must be one of gpu, cpu"):
        register(dataclasses.replace(restore_runner, queue="fast"))
    with pytest.raises(LookupError, match="No runner for job kind 'restore_batch'"):
        runner_for("restore_batch")  # a batch never runs itself
    assert runner_for("restore") is restore_runner
