"""Training: the trainer and seed 002's long-dependency methods (`rnnzoo.training.methods`)."""
