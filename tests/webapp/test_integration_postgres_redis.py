"""Against the real services (`make test-integration`): PostgreSQL for ingest and the seeded catalogue,
Redis as channel layer and as Celery broker with a real worker."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from restoration.io import write_video
from webapp.catalogue.models import Film, MediaAsset, Shot, ShotStatus, VersionStatus

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def real_services():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not settings.ENV.redis_url:
        pytest.fail("integration tests need DATABASE_URL=postgres://... and REDIS_URL=redis://... "
                    "(run them with `make test-integration`)")


def _clip(path: Path, frames: int = 6) -> Path:
    write_video(path, torch.rand(frames, 3, 32, 48, generator=torch.Generator().manual_seed(1)), fps=24)
    return path


@pytest.mark.django_db
def test_ingest_on_postgresql_stores_good_scans_and_nothing_of_bad_ones(film, member, client_for, media_root,
                                                                        tmp_path):
    assert connection.vendor == "postgresql"
    client = client_for(member(film, "restorer"))
    good = _clip(tmp_path / "good.mkv")
    response = client.post(f"/api/films/{film.pk}/assets/upload/",
                           {"file": SimpleUploadedFile("good.mkv", good.read_bytes())}, format="multipart")
    assert response.status_code == 201, response.content
    asset = MediaAsset.objects.get()
    assert asset.frame_count == 6 and Path(asset.file.path).is_file()

    files_before = sorted(p for p in media_root.rglob("*") if p.is_file())
    response = client.post(f"/api/films/{film.pk}/assets/upload/",
                           {"file": SimpleUploadedFile("bad.mkv", b"not a video" * 100)}, format="multipart")
    assert response.status_code == 400 and "bad.mkv" in response.json()["detail"]
    assert MediaAsset.objects.count() == 1
    assert sorted(p for p in media_root.rglob("*") if p.is_file()) == files_before


@pytest.mark.django_db
def test_seed_small_catalogue_on_postgresql():
    call_command("seed_catalogue", films=3, shots_per_film=20, seed=5)
    assert Film.objects.count() == 3 and Shot.objects.count() == 60
    for shot in Shot.objects.filter(status=ShotStatus.APPROVED).select_related("approved_version"):
        assert shot.approved_version.shot_id == shot.pk
        assert shot.approved_version.status == VersionStatus.APPROVED


@pytest.mark.django_db
def test_bench_runs_on_postgresql(capsys):
    call_command("bench_catalogue", in_bench_db=True, films=2, shots_per_film=60, repeat=3)
    out = capsys.readouterr().out
    assert "Database: postgresql" in out and "| a film's shots, page 1" in out


async def test_redis_channel_layer_send_receive_and_groups():
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)  # channels_redis's, made to outlive a restart (realtime/layers.py)
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "hello", "text": "direct"})
    assert (await layer.receive(channel))["text"] == "direct"

    group = f"shot.test-{uuid.uuid4().hex}"
    await layer.group_add(group, channel)
    await layer.group_send(group, {"type": "comment.created", "id": 7})
    assert (await layer.receive(channel)) == {"type": "comment.created", "id": 7}
    await layer.group_discard(group, channel)


def test_celery_round_trip_through_a_worker_on_redis():
    from celery.contrib.testing.tasks import ping

    from webapp.config.celery import app
    from webapp.devtools.demo import embedded_worker

    assert app.conf.broker_url.startswith("redis://")
    # A queue of its own, so this worker never takes tasks that other test runs left on cpu/gpu.
    queue = f"integration-{uuid.uuid4().hex}"
    with embedded_worker(queues=(queue,)):
        assert ping.apply_async(queue=queue).get(timeout=30) == "pong"
