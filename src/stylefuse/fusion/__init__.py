"""Fusion: several models, styles or photos into one result (model interpolation and layer swaps, region
fusion, panoramas, exposure fusion and focus stacking). Each module has one purpose; the CLI's ``fuse`` and
``fuse-images`` commands call :func:`.models.fuse_models` and :func:`.images.fuse_images`."""
