"""lso: a latent-space neural architecture design workbench."""

__version__ = "0.1.0"
