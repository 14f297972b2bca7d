"""What curate and difficulty share about failed model calls: the error that leaves an item for the next
run, and the brake that stops starting new items once most of them fail (the endpoint is down or
refusing, and every further call would fail too)."""

from __future__ import annotations

MIN_ATTEMPTS = 20
"""Items tried before the share of failed model calls may stop a run."""


class ModelError(Exception):
    """A model call failed after its retries: the item is asked again by the next run."""


class FailureBrake:
    """Counts the items tried and those that ended on a failed model call; ``stopped`` says why new
    items must not start, once more than ``max_share`` of at least :data:`MIN_ATTEMPTS` failed.

    >>> brake = FailureBrake(0.5)
    >>> for failed in [True] * 11 + [False] * 9:
    ...     brake.record(failed)
    >>> brake.stopped
    '11 of the first 20 problems ended on a failed model call'
    """

    def __init__(self, max_share: float) -> None:
        self.max_share, self.tried, self.failed = max_share, 0, 0
        self.stopped: str | None = None

    def record(self, failed: bool) -> None:
        self.tried += 1
        self.failed += failed
        if self.stopped is None and self.tried >= MIN_ATTEMPTS and self.failed / self.tried > self.max_share:
            self.stopped = f"{self.failed} of the first {self.tried} problems ended on a failed model call"
