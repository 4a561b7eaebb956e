"""The ``necomimi`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
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


def _add_rate_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "rate",
        help="serve the blinded page on which a person rates generated images for the CAT score",
        description=(
            "Serve a local page that shows a rater the generated images one at a time, in a seeded "
            "random order and under opaque ids (no encoder, condition, mode or file name), and asks "
            "for each whether it shows each of its concept's five CAT tags. Answers go to "
            "OUT/RATER/answers.csv as they are given; a rerun resumes there. Each fully rated "
            "group is written as OUT/RATER/<protocol>/<encoder>/sub-XX/seed-N/<condition>/<mode>.csv "
            "(gt: OUT/RATER/gt/gt.csv), the layout cat.human_ratings reads. Stop with Ctrl-C (or SIGTERM)."
        ),
    )
    parser.add_argument("images_dir", help="the generated images: results/images (or a folder laid out like it)")
    parser.add_argument("--tags", required=True,
                        help="the CAT tag table (the demo's: resources/synthetic/concept_tags.csv)")  # fmt: skip
    parser.add_argument("--rater", required=True,
                        help="the rater's id (letters, digits, '_', '-', '.'); names their folder")  # fmt: skip
    parser.add_argument("--out", required=True, help="the raters' folder; this rater's files go to OUT/RATER")
    parser.add_argument("--group", action="append", default=None, metavar="PATTERN",
                        help="rate only the groups matching this shell pattern, e.g. 'intra/nerv/sub-01/*' or "
                        "'*/two_stage' or gt (repeatable; default: every group)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the order the images are shown in (default: 0)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: 127.0.0.1, this machine only)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8765, help="port to serve on; 0 picks a free one (default: 8765)")


def _rate(args: argparse.Namespace) -> None:
    from necomimi.cat.rating import RatingSession, rater_folder
    from necomimi.cat.rating_server import RatingServer, rater_lock

    with rater_lock(rater_folder(args.out, args.rater)):
        session = RatingSession(args.images_dir, args.tags, args.rater, args.out, seed=args.seed,
                                groups=args.group or ["*"])  # fmt: skip
        with RatingServer(session, args.host, args.port) as server:
            print(f"Rating page for {args.rater}: {server.url} ({session.n_answered} of {len(session.items)} "
                  f"images rated; answers in {session.answers_file}). Stop with Ctrl-C.", flush=True)  # fmt: skip
            # Ctrl-C and SIGTERM stop the server, even where the parent started it with
            # SIGINT ignored (a background job of a non-interactive shell, e.g. CI).
            for stop in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stop, signal.default_int_handler)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                print(f"Stopped: {session.n_answered} of {len(session.items)} images rated.", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the ``necomimi`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="necomimi", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_synth_parser(subparsers)
    _add_regenerate_parser(subparsers)
    _add_rate_parser(subparsers)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        if args.command == "synth":
            _synth(args)
        elif args.command == "regenerate":
            return _regenerate(args)
        elif args.command == "rate":
            _rate(args)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"necomimi {args.command}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
