"""The ``stylefuse`` console script: a command line the instant path can run (built-in styles, see
:mod:`stylefuse.frontends.instant`) runs before the full command line is even imported; every other one goes to
:func:`stylefuse.cli.main`. Importing the CLI (typer, click) costs about as much as the network at 512 px."""

from __future__ import annotations

import sys

from stylefuse.errors import StylefuseError, one_line


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``stylefuse ...`` and ``python -m stylefuse ...``; user errors print one ``error:`` line and
    exit with status 2, like :func:`stylefuse.cli.main`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        code = instant_command(argv)
    except StylefuseError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    if code is not None:
        sys.exit(code)
    from stylefuse.cli import main as cli_main

    cli_main(argv)


def instant_command(argv: list[str]) -> int | None:
    """The exit status of a command line the instant path ran, or None (nothing heavy is imported for others)."""
    from stylefuse.frontends.instant_args import parse_instant

    request = parse_instant(argv)
    if request is None:
        return None
    from stylefuse.frontends.instant import run_instant

    return run_instant(request)
