"""Reports: the files a comparison leaves behind (tables, curves, figures as HTML), written from the data that
``lso.search`` and ``lso.growth`` return and the figures ``lso.viz`` draws. Above both, below the CLI and the app."""
