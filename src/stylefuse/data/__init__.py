"""Training data: image folders, paired and unpaired sets, crops that depend only on (seed, step)."""
