"""Exchange of grades: ASC CDL (.cdl, .cc, .ccc) and .cube (33 points) out and back in, the film's
grades as one .ccc, bad files refused with nothing made; the LUT a browser previews with."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from restoration import api as engine
from tests.webapp.colour_fixtures import COOL, IDENTITY, LOOK, make_grade
from tests.webapp.factories import FilmFactory, ShotFactory
from webapp.colour.models import Grade, GradeStatus, Scene
from webapp.colour.selectors import grade_values_of
from webapp.colour.services import grade_decision_record

pytestmark = pytest.mark.django_db

SAMPLES = np.random.default_rng(7).random((300, 3)).tolist()


@pytest.fixture
def shots(film):
    return [ShotFactory(film=film, number=n) for n in (1, 2, 3)]


@pytest.fixture
def fitted_like(shots):
    """A grade with a CDL and a (smooth) LUT after it, as a fit makes."""
    axis = np.linspace(0.0, 1.0, 33)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")
    rows = np.stack([r, g, b], axis=-1).reshape(-1, 3)
    table = np.clip(rows + 0.03 * np.sin(2 * np.pi * rows[:, [1, 2, 0]]), 0, 1).astype("<f4").tobytes()
    return make_grade(shot=shots[0], cdl=LOOK, lut=engine.GradeLut(size=33, table=table))


def _import(client, data: bytes, name: str, **fields):
    return client.post("/api/grades/import/", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def _colours(grade):
    return np.asarray(engine.grade_colours(grade_values_of(grade), SAMPLES))


@pytest.mark.parametrize("kind", ["cdl", "cc", "json"])
def test_an_exported_grade_imported_again_is_the_same_grade(shots, fitted_like, film_members, client_for, kind):
    client = client_for(film_members["restorer"])
    response = client.get(f"/api/grades/{fitted_like.pk}/export/?as={kind}")
    assert response.status_code == 200
    assert 'filename="film-' in response["Content-Disposition"] and f"shot-1-grade1.{kind}" in response[
        "Content-Disposition"]
    imported = _import(client, response.content, f"look.{kind}", shot=shots[1].pk)
    assert imported.status_code == 201, imported.json()
    (body,) = imported.json()
    grade = Grade.objects.get(pk=body["id"])
    assert (grade.shot, grade.source, grade.status, grade.author) == (shots[1], "import", "proposed",
                                                                      film_members["restorer"])
    assert np.allclose(grade.cdl["slope"], LOOK["slope"]) and grade.cdl["saturation"] == pytest.approx(1.2)
    if kind == "json":  # lossless, LUT included
        assert body["has_lut"] and np.allclose(_colours(grade), _colours(fitted_like), atol=1e-6)
    else:  # an ASC file holds the CDL only
        assert not body["has_lut"]
        cdl_only = make_grade(shot=shots[2], cdl=LOOK)
        assert np.allclose(_colours(grade), _colours(cdl_only), atol=1e-9)


def test_a_cube_carries_the_whole_grade_baked_into_33_points(shots, fitted_like, film_members, client_for):
    client = client_for(film_members["archivist"])
    cube = client.get(f"/api/grades/{fitted_like.pk}/export/?as=cube").content
    assert b"LUT_3D_SIZE 33" in cube
    (body,) = _import(client, cube, "look.cube", shot=shots[1].pk).json()
    imported = Grade.objects.get(pk=body["id"])
    assert body["has_lut"] and imported.cdl == IDENTITY
    axis = np.linspace(0, 1, 33)
    lattice = [[axis[i], axis[j], axis[k]] for i, j, k in [(0, 0, 0), (3, 20, 31), (32, 32, 32), (16, 8, 4)]]
    assert np.allclose(engine.grade_colours(grade_values_of(imported), lattice),
                       engine.grade_colours(grade_values_of(fitted_like), lattice), atol=1e-6)
    assert np.abs(_colours(imported) - _colours(fitted_like)).max() < 0.02  # trilinear between the points
    # Out again: the same table.
    again = engine.grade_file_read(client.get(f"/api/grades/{imported.pk}/export/?as=cube").content, name="a.cube")
    assert np.allclose(np.frombuffer(again.lut.table, "<f4"), np.frombuffer(imported.lut, "<f4"), atol=1e-7)


def test_the_films_grades_go_out_as_one_ccc_and_come_back_into_another_film(film, shots, film_members,
                                                                           client_for, member):
    scene = Scene.objects.create(film=film, name="Dusk", first_number=2, last_number=3)
    grades = [make_grade(shot=shots[0], cdl=LOOK), make_grade(scene=scene, cdl=COOL)]
    make_grade(shot=shots[0], cdl=IDENTITY)  # newer, only proposed: not in the approved export
    for grade in grades:
        for role in ("creator", "archivist"):
            grade_decision_record(grade=grade, reviewer=film_members[role], verdict="approve")
    client = client_for(film_members["viewer"])
    response = client.get(f"/api/grades/export/?film={film.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    corrections = engine.grade_file_corrections(response.content, name="film.ccc")
    assert list(corrections) == ["shot-1", "scene-2-3"]
    assert list(engine.grade_file_corrections(client.get(f"/api/grades/export/?film={film.pk}&which=current").content,
                                              name="f.ccc")) == ["shot-1", "scene-2-3"]

    copy = FilmFactory()
    archivist = member(copy, "archivist")
    for number in (1, 2, 3):
        ShotFactory(film=copy, number=number)
    copy_scene = Scene.objects.create(film=copy, name="Dusk", first_number=2, last_number=3)
    imported = _import(client_for(archivist), response.content, "film.ccc", film=copy.pk)
    assert imported.status_code == 201, imported.json()
    made = {(g.shot.number if g.shot else None, g.scene_id): g for g in Grade.objects.filter(film=copy)}
    assert set(made) == {(1, None), (None, copy_scene.pk)}
    assert np.allclose(made[(1, None)].cdl["slope"], LOOK["slope"])
    assert np.allclose(made[(None, copy_scene.pk)].cdl["power"], COOL["power"])
    assert all(g.status == GradeStatus.PROPOSED and g.source == "import" for g in made.values())


def test_a_films_ccc_naming_shots_it_does_not_have_imports_nothing(film, shots, film_members, client_for):
    ccc = engine.cdl_collection_write({"shot-1": LOOK, "shot-9": COOL, "reel-2": COOL})
    response = _import(client_for(film_members["archivist"]), ccc, "film.ccc", film=film.pk)
    assert response.status_code == 400 and "shot-9, reel-2" in response.json()["detail"]
    assert not Grade.objects.exists()


def test_a_film_without_approved_grades_has_nothing_to_export(film, shots, film_members, client_for):
    make_grade(shot=shots[0])
    response = client_for(film_members["viewer"]).get(f"/api/grades/export/?film={film.pk}")
    assert response.status_code == 400 and "no approved grade" in response.json()["detail"]


WRONG_CDL = b"<ColorCorrection><SOPNode><Slope>-1 1 1</Slope></SOPNode></ColorCorrection>"


def _cube(size: int) -> bytes:
    axis = np.linspace(0, 1, size)
    return (f"LUT_3D_SIZE {size}\n" + "\n".join(f"{r} {g} {b}" for b in axis for g in axis for r in axis)).encode()


@pytest.mark.parametrize(("name", "data", "words"), [
    ("bad.cc", b"<ColorCorrection><SOPNode><Slope>1 1 1</Slope>\n</SOPNode>", "bad.cc: line 2, column"),
    ("range.cc", WRONG_CDL, "slope must be 0 or more"),
    ("huge.cc", WRONG_CDL.replace(b"-1 1 1", b"1 1 500"), "slope must be within 0..100"),
    ("big.cube", _cube(65), "big.cube: a 65-point LUT is not supported; use a 33-point LUT"),
    ("short.cube", b"LUT_3D_SIZE 33\n0 0 0\n", "short.cube: 1 table rows, LUT_3D_SIZE 33 needs 35937"),
    ("look.3dl", b"0 0 0", "unsupported grade file"),
    ("evil.cdl", b'<!DOCTYPE a [<!ENTITY b "c">]><ColorDecisionList/>', "DOCTYPE"),
    ("many.ccc", engine.cdl_collection_write({"a": LOOK, "b": COOL}), "holds 2 corrections; choose one"),
])
def test_bad_grade_files_are_refused_naming_the_problem_and_nothing_is_kept(shots, film_members, client_for,
                                                                           media_root, name, data, words):
    response = _import(client_for(film_members["restorer"]), data, name, shot=shots[0].pk)
    assert response.status_code == 400, response.json()
    assert words in response.json()["detail"] and response.json()["code"] == "invalid"
    assert not Grade.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]  # the staged upload went with its request


def test_a_17_point_cube_comes_in_resampled_exactly_and_an_id_picks_one_of_many(shots, film_members, client_for):
    client = client_for(film_members["restorer"])
    (body,) = _import(client, _cube(17), "small.cube", shot=shots[0].pk).json()
    assert body["has_lut"]
    many = engine.cdl_collection_write({"a": LOOK, "b": COOL})
    (picked,) = _import(client, many, "many.ccc", shot=shots[0].pk, id="b").json()
    assert picked["cdl"]["saturation"] == pytest.approx(0.8) and picked["number"] == 2


def test_an_oversized_grade_file_is_refused_before_it_is_kept(shots, film_members, client_for, settings, media_root):
    settings.MAX_GRADE_FILE_BYTES = 1000
    response = _import(client_for(film_members["restorer"]), _cube(9), "big.cube", shot=shots[0].pk)
    assert response.status_code == 413 and "limit of 1000 bytes" in response.json()["detail"]
    assert not Grade.objects.exists() and not [p for p in media_root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("role", "code"), [("viewer", 403), ("creator", 403), ("restorer", 201)])
def test_importing_needs_the_grade_role(shots, film_members, client_for, role, code):
    cdl = engine.grade_file_write(engine.grade_check(LOOK), extension=".cdl")
    assert _import(client_for(film_members[role]), cdl, "a.cdl", shot=shots[0].pk).status_code == code


def test_importing_into_another_films_shot_is_does_not_exist(shots, other_film, member, client_for):
    cdl = engine.grade_file_write(engine.grade_check(LOOK), extension=".cdl")
    response = _import(client_for(member(other_film, "archivist")), cdl, "a.cdl", shot=shots[0].pk)
    assert response.status_code == 400 and "does not exist" in response.json()["detail"]


def _lut_response(client, grade, baked=False):
    response = client.get(f"/api/grades/{grade.pk}/lut/" + ("?baked=true" if baked else ""))
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    data = response.content
    (length,) = struct.unpack(">I", data[:4])
    assert (4 + length) % 4 == 0  # the table can be viewed as a Float32Array in place
    header = json.loads(data[4:4 + length])
    table = np.frombuffer(data[4 + length:], dtype="<f4").reshape(-1, 3)
    return header, table


def _shader(cdl: dict, table: np.ndarray, header: dict, rgb: np.ndarray) -> np.ndarray:
    """What docs/API.md tells the WebGL shader to do: the ASC CDL (clamp, power, saturation on
    Rec. 709 luma, clamp), then the LUT: domain to 0..1, clamp, trilinear on the lattice."""
    slope, offset, power = (np.asarray(cdl[k]) for k in ("slope", "offset", "power"))
    sop = np.clip(rgb * slope + offset, 0, 1) ** power
    luma = sop @ np.array([0.2126, 0.7152, 0.0722])
    graded = np.clip(luma[:, None] + cdl["saturation"] * (sop - luma[:, None]), 0, 1)
    n = header["size"]
    low, high = np.asarray(header["domain_min"]), np.asarray(header["domain_max"])
    x = np.clip((graded - low) / (high - low), 0, 1) * (n - 1)
    i0 = np.minimum(np.floor(x).astype(int), n - 2)
    f = x - i0
    lattice = table.reshape(n, n, n, 3)  # [b, g, r]: red fastest in the flat table
    out = np.zeros_like(graded)
    for dr in (0, 1):
        for dg in (0, 1):
            for db in (0, 1):
                w = ((f[:, 0] if dr else 1 - f[:, 0]) * (f[:, 1] if dg else 1 - f[:, 1])
                     * (f[:, 2] if db else 1 - f[:, 2]))
                out += w[:, None] * lattice[i0[:, 2] + db, i0[:, 1] + dg, i0[:, 0] + dr]
    return out


def test_the_preview_lut_is_what_the_engine_applies_by_the_documented_maths(fitted_like, film_members, client_for,
                                                                            shots):
    client = client_for(film_members["viewer"])
    header, table = _lut_response(client, fitted_like)
    assert (header["format"], header["size"], header["baked"], header["cdl"]) == ("restoration.lut3d", 33, False, LOOK)
    assert table.shape == (33**3, 3) and table.tobytes() == bytes(fitted_like.lut)
    rgb = np.asarray(SAMPLES)
    assert np.allclose(_shader(header["cdl"], table, header, rgb), _colours(fitted_like), atol=1e-5)
    # Baked: the whole grade in the table, no CDL to apply (exact at the lattice points).
    baked_header, baked = _lut_response(client, fitted_like, baked=True)
    assert baked_header["cdl"] is None and baked_header["baked"]
    axis = np.linspace(0, 1, 33)
    assert np.allclose(baked[4 + 33 * 10 + 33 * 33 * 30],
                       engine.grade_colours(grade_values_of(fitted_like), [[axis[4], axis[10], axis[30]]])[0],
                       atol=1e-6)
    # A grade without a LUT sends the identity: the shader is the same for every grade.
    plain = make_grade(shot=shots[1], cdl=COOL)
    header, table = _lut_response(client, plain)
    assert np.allclose(_shader(header["cdl"], table, header, rgb), _colours(plain), atol=1e-5)


def test_bad_export_and_lut_parameters_are_refused(fitted_like, film_members, client_for):
    client = client_for(film_members["viewer"])
    response = client.get(f"/api/grades/{fitted_like.pk}/export/?as=3dl")
    assert response.status_code == 400 and "as: Must be one of cdl, cc, cube, json" in response.json()["detail"]
    assert client.get(f"/api/grades/{fitted_like.pk}/lut/?baked=maybe").status_code == 400
    assert client.get("/api/grades/export/?film=x").status_code == 400
