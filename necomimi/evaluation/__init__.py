"""Zero-shot retrieval evaluation (SPEC.md section 5, done exactly)."""

from necomimi.evaluation.kway import kway_accuracy, kway_accuracy_monte_carlo

__all__ = ["kway_accuracy", "kway_accuracy_monte_carlo"]
