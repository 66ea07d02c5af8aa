"""Learned models on NAS-Bench-201 cells: the graph VAE (encoder, decoder), the ICNN surrogate, the GNN predictor,
and ``LatentModel``, the notebook-friendly object loaded from a training run."""

from lso.models.decoder import CellDecoder, LatentError
from lso.models.encoder import CellEncoder, EdgeConv
from lso.models.gvae import GVAE, GVAEOutput
from lso.models.icnn import ICNN
from lso.models.predictor import GNNPredictor
from lso.models.workbench import LatentModel, RunLoadError, SurrogateFit

__all__ = ["CellDecoder", "CellEncoder", "EdgeConv", "GNNPredictor", "GVAE", "GVAEOutput", "ICNN", "LatentError", "LatentModel", "RunLoadError", "SurrogateFit"]
