"""necomimi's test suite: unit tests in ``tests/unit``, end-to-end ones in ``tests/workflow``."""
