"""The image half of the study: scores of the generated images, their tables and figures.

:mod:`.scores` computes the image metrics and the CAT verdicts of one run's (and of the
shared gt) images, :mod:`.tables` gathers every run into the paper's Tables 3-5 and
the metric suite, :mod:`.figures` draws the CAT chart and the image grids, and
:mod:`.outputs` writes them all for rule ``tabulate_images``.
"""
