"""Training: the one GAN loop, resumable checkpoints, augmentation, image pools."""
