"""``python -m stylefuse``: the same as the ``stylefuse`` command."""

from stylefuse.cli import main

main()
