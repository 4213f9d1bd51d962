"""``pyrunc features``: what this build supports, as OCI features JSON."""
from __future__ import annotations

import sys

from pyrunc.cli.command import command
from pyrunc.cli.context import GlobalOptions
from pyrunc.cli.jsonout import go_json


@command(
    "features",
    "show the enabled features",
    nargs=(0, 0),
    args_usage="",
    description="Show the enabled features, as the OCI runtime-spec features.md JSON document.",
)
def cli(opts: GlobalOptions, args: list[str]) -> None:
    do_features()


def do_features() -> None:
    from pyrunc.features import features

    sys.stdout.write(go_json(features(), indent="    ") + "\n")
