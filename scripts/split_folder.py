"""Write one side of the fixed training/validation split of ../shared/data/train as a folder of links.

    python scripts/split_folder.py photos runs/train-photos            # the training photos (never validation)
    python scripts/split_folder.py paintings runs/val-paintings --side validation

Training commands that take a folder (``stylefuse train ... --data``) then read only that side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stylefuse.data.folders import link_folder
from stylefuse.data.splits import split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("photos", "paintings"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--side", choices=("train", "validation"), default="train")
    args = parser.parse_args()
    paths = getattr(split(args.kind), args.side)
    link_folder(args.folder, paths)
    print(f"{len(paths)} {args.side} {args.kind} linked in {args.folder}")


if __name__ == "__main__":
    main()
