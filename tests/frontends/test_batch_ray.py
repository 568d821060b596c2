"""`stylefuse batch --ray`: a local Ray cluster gives the outputs and the manifest of the local loop, from local
folders and from object-store URIs (``file://`` through pyarrow.fs, as workers on a cluster read ``s3://``)."""

from __future__ import annotations

import pytest
from tests.frontends.test_batch import manifest_rows, model, photo_folder  # noqa: F401 (a fixture)

from stylefuse.frontends.batch import MANIFEST, JobRecipe, run_batch
from stylefuse.image.io import read_image

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow  # about 20 s: starting Ray and its actors
def test_ray_batch_matches_the_local_loop_and_resumes(tmp_path, model, local_ray):  # noqa: F811
    from stylefuse.frontends.batch_ray import ray_runner

    photos, recipe = photo_folder(tmp_path / "in"), JobRecipe(model=str(model))
    run_batch(str(photos), tmp_path / "local", recipe, show_progress=False)
    summary = run_batch(str(photos), tmp_path / "ray", recipe, ray_runner(workers=2), show_progress=False)
    assert (summary.written, len(summary.failed)) == (3, 1)
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == [MANIFEST, "photo0.png", "photo1.png", "photo2.png"]
    for name in ("photo0.png", "photo1.png", "photo2.png"):
        assert read_image(tmp_path / "ray" / name).rgb.equal(read_image(tmp_path / "local" / name).rgb)
    assert manifest_rows(tmp_path / "ray") == manifest_rows(tmp_path / "local")

    again = run_batch(str(photos), tmp_path / "ray", recipe, ray_runner(workers=2), show_progress=False)
    assert (again.written, again.done_before, len(again.failed)) == (0, 3, 1)


@pytest.mark.slow  # about 5 s more on the cluster started above
def test_ray_workers_read_and_write_uris(tmp_path, model, local_ray):  # noqa: F811
    from stylefuse.frontends.batch_ray import ray_runner

    photos, recipe = photo_folder(tmp_path / "in"), JobRecipe(model=str(model))
    run_batch(str(photos), tmp_path / "local", recipe, show_progress=False)
    summary = run_batch(photos.as_uri(), (tmp_path / "ray").as_uri(), recipe, ray_runner(workers=2),
                        show_progress=False)
    assert (summary.written, summary.failed[0][0]) == (3, f"{photos.as_uri()}/broken.jpg")
    for name in ("photo0.png", "photo1.png", "photo2.png"):
        assert read_image(tmp_path / "ray" / name).rgb.equal(read_image(tmp_path / "local" / name).rgb)
