"""``python -m stylefuse``: the same as the ``stylefuse`` command."""

from stylefuse.launcher import main

main()
