"""Package data: the Streamlit workbench, installed as ``lso._app`` and started by ``lso app`` (``lso.cli.app``). Streamlit
runs ``main.py`` as a script with this folder on ``sys.path``; nothing imports this package as code."""
