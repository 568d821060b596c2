"""Run a batch on Ray Data (``pip install 'stylefuse[ray]'``): a dataset of (source, target) paths, mapped by a pool
of actors that each prepare the job once and stylize with :func:`stylefuse.frontends.batch.stylize_file`, so the
outputs, the skipped files and the manifest are those of the local loop.

Workers read and write the files themselves: on a cluster of several machines, INPUT and OUT must be object-store
URIs (``s3://``, ``gs://``: every worker reads and writes them through pyarrow) or folders that every node sees at
the same path (a shared file system).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from stylefuse.errors import OptionError
from stylefuse.frontends.batch import STAGES, JobRecipe, Location, Outcome, location, stylize_file


class StylizeBatch:
    """The callable class of ``map_batches``: prepares the job once per actor, then stylizes each row's file.

    Args:
        recipe: the job to prepare.
        threads: PyTorch threads of this actor (match its ``num_cpus``).
    """

    def __init__(self, recipe: JobRecipe, threads: int = 1) -> None:
        import torch

        torch.set_num_threads(threads)
        self.recipe = recipe
        self.job = recipe.prepare()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """Stylize the files of ``batch`` (columns ``source``, ``target``); one row of results per file."""
        rows: dict[str, list[Any]] = {column: [] for column in ("source", "status", "reason", *STAGES)}
        for source, target in zip(batch["source"], batch["target"]):
            outcome = stylize_file(self.job, location(source), location(target), self.recipe.max_pixels)
            rows["source"].append(outcome.source)
            rows["status"].append(outcome.status)
            rows["reason"].append(outcome.reason)
            for stage in STAGES:
                rows[stage].append(outcome.seconds.get(stage, 0.0))
        return rows


def connect(address: str | None, **init_options: Any) -> None:
    """Join the Ray cluster at ``address`` (``auto``, ``ray://host:10001``), or start a local one when None; a
    session already connected is kept."""
    try:
        import ray
    except ImportError:
        raise OptionError("--ray needs Ray: pip install 'stylefuse[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, **({"logging_level": "WARNING"} if address is None else {}), **init_options)


def quiet_ray_data() -> None:
    """Leave the progress to stylefuse's own bar: no Ray Data bars or per-operator INFO lines."""
    import logging

    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.enable_operator_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def ray_runner(workers: int = 1, threads: int = 1, address: str | None = None
               ) -> Callable[[JobRecipe, list[tuple[Location, Location]]], Iterator[Outcome]]:
    """A runner for :func:`stylefuse.frontends.batch.run_batch` that maps the pairs over ``workers`` Ray actors
    of ``threads`` CPUs each, one file per call (stylization dominates; a bigger batch only delays progress)."""
    if workers < 1 or threads < 1:
        raise OptionError(f"--workers and --threads must be >= 1, got {workers} and {threads}")

    def run(recipe: JobRecipe, pairs: list[tuple[Location, Location]]) -> Iterator[Outcome]:
        recipe.prepare()  # here too: a user's mistake is one line, not a failed actor
        connect(address)
        import ray.data

        quiet_ray_data()
        items = [{"source": str(source), "target": str(target)} for source, target in pairs]
        dataset = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * workers)).map_batches(
            StylizeBatch, fn_constructor_kwargs={"recipe": recipe, "threads": threads}, batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=threads)
        for row in dataset.iter_rows():
            seconds = {stage: float(row[stage]) for stage in STAGES}
            yield Outcome(str(row["source"]), str(row["status"]), str(row["reason"]), seconds)

    return run
