"""Widgets and cached loaders shared by the workbench pages (no computation: that is ``lso``'s)."""
