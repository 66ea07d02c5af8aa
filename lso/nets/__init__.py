"""Real networks for NAS-Bench-201 cells: the ops, the macro network, the trainer, the training oracle, the builder.

Heavy pieces (torch modules, training) live in their own modules; import them from there, e.g.
``from lso.nets.network import Network``.
"""
