"""Entry point of the ``lso`` command. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import importlib
import sys
from typing import Sequence

import typer
from rich.console import Console
from rich.markup import escape

from lso.errors import LsoError

# Modules under lso.cli that each define ``register(app: typer.Typer) -> None``.
_COMMAND_MODULES: tuple[str, ...] = ("bench", "train", "search", "query", "refine", "milenas", "demo", "app")


def _print_version(value: bool) -> None:
    if value:
        from lso import __version__

        print(f"lso {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print lso's version and exit."),
) -> None:
    """Latent-space neural architecture design workbench (NAS-Bench-201, G-VAE + ICNN, neuron splitting)."""


def build_app(only: str | None = None) -> typer.Typer:
    """The typer application with every command group registered, or only the group ``only`` (a name of
    ``_COMMAND_MODULES``, which is also its command's name): ``lso app`` then starts without importing torch, which
    other groups import to build their options."""
    app = typer.Typer(
        name="lso",
        help="Latent-space neural architecture design workbench (NAS-Bench-201, G-VAE + ICNN, neuron splitting).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_root)
    for name in _COMMAND_MODULES if only not in _COMMAND_MODULES else (only,):
        importlib.import_module(f"lso.cli.{name}").register(app)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI. Errors from bad input print one line naming the problem and exit with status 2."""
    args = list(argv) if argv is not None else sys.argv[1:]
    app = build_app(only=args[0] if args else None)  # a command names its group: register that one alone
    try:
        app(args=args, prog_name="lso")
    except LsoError as err:
        # escaped: a message is plain text ("pip install 'lso[app]'" must not lose "[app]" as markup)
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
