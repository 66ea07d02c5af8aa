"""Figures and the projections behind them (plotly figures built from lso results; no UI code)."""
