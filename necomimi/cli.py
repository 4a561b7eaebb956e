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


def _add_regenerate_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "regenerate",
        help="render one generated image again, alone, from its folder's sidecar",
        description=(
            "Render image INDEX of a folder of generated images (results/images/.../<mode>) "
            "again, with the weights, settings, seed and embedding its images.json and "
            "embeddings.pt record, and say whether the result is byte-identical to the "
            "recorded image. Exit status 0 if identical, 1 if not."
        ),
    )
    parser.add_argument("folder", help="a mode folder: results/images/<protocol>/<encoder>/sub-XX/seed-N/"
                                       "<condition>/<mode>, or results/images/gt")  # fmt: skip
    parser.add_argument("index", type=int, help="0-based test index (the NNN of NNN_<concept>.png)")
    parser.add_argument("--out", default=None,
                        help="PNG to write (default: the image's own file name, in the current folder)")


def _regenerate(args: argparse.Namespace) -> int:
    from necomimi.generation.images import regenerate_image  # diffusers: imported only when needed

    out, identical = regenerate_image(args.folder, args.index, args.out)
    verdict = "identical to" if identical else "DIFFERS from"
    print(f"{out}: {verdict} the recorded image {args.index} of {args.folder}")
    return 0 if identical else 1


def main(argv: list[str] | None = None) -> int:
    """Run the ``necomimi`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="necomimi", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_synth_parser(subparsers)
    _add_regenerate_parser(subparsers)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        if args.command == "synth":
            _synth(args)
        elif args.command == "regenerate":
            return _regenerate(args)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"necomimi {args.command}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
