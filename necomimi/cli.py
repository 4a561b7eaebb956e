"""The ``necomimi`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from necomimi.data.synthetic import SyntheticSpec, write_dataset

DEMO_SUBJECTS = ("01", "02")
# SyntheticSpec annotations are strings (postponed evaluation).
_FIELD_TYPES = {"int": int, "float": float}


def _add_synth_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic THINGS-EEG2 (raw EEG, images, metadata, CAT tags)",
        description=(
            "Write a synthetic THINGS-EEG2 in the exact formats of the real release. "
            "Defaults are the embedded demo of config/config.yaml; --full-size gives "
            "the real counts (one subject, ~8.5 GB) for benchmarks."
        ),
    )
    parser.add_argument("out_dir", help="folder to write the dataset into")
    parser.add_argument(
        "--subjects",
        nargs="+",
        default=None,
        metavar="XX",
        help=f"two-digit subject labels (default: {' '.join(DEMO_SUBJECTS)}; "
        "with --full-size: 01)",
    )
    parser.add_argument(
        "--full-size",
        action="store_true",
        help="real THINGS-EEG2 counts: 1654x10 training images x 4 repetitions, "
        "200 test images x 80 repetitions, 500-pixel images",
    )
    for field in dataclasses.fields(SyntheticSpec):
        parser.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=_FIELD_TYPES[field.type],
            default=None,
            help=f"(default: {field.default} in the demo)",
        )


def _synth(args: argparse.Namespace) -> None:
    overrides = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(SyntheticSpec)
        if getattr(args, field.name) is not None
    }
    if args.full_size:
        spec = SyntheticSpec.full_size(**overrides)
        subjects = args.subjects or ["01"]
    else:
        spec = SyntheticSpec(**overrides)
        subjects = args.subjects or list(DEMO_SUBJECTS)
    write_dataset(args.out_dir, spec, subjects)


def main(argv: list[str] | None = None) -> int:
    """Run the ``necomimi`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="necomimi", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_synth_parser(subparsers)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        if args.command == "synth":
            _synth(args)
    except ValueError as error:
        parser.exit(2, f"necomimi {args.command}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
