"""The CAT score (PAPER.md 1.3): five tags per test concept, judged per generated image.

- :mod:`~necomimi.cat.tags`: the tag table;
- :mod:`~necomimi.cat.judge`: the CLIP judge (with its ceiling and chance level) and
  human ratings, aggregated alike.
"""
