"""The CAT score (PAPER.md 1.3): five tags per test concept, judged per generated image.

- :mod:`~necomimi.cat.tags`: the tag table;
- :mod:`~necomimi.cat.judge`: the CLIP judge (with its ceiling and chance level) and
  human ratings, aggregated alike;
- :mod:`~necomimi.cat.clip_judge`: the CLIP judge on image files;
- :mod:`~necomimi.cat.rating` and :mod:`~necomimi.cat.rating_server`: ``necomimi rate``,
  the blinded page on which a person rates images, and the ratings files it writes.
"""
