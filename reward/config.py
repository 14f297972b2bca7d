"""Settings of the Compass-Verifier reward, shared by the reward server and the verl entry point."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

MODES = ("rule_then_verifier", "rule_only", "verifier_only")
DEFAULT_VERIFIER = "opencompass/CompassVerifier-7B"
"""The paper names a "Compass-Verifier-8B" that was never published; 3B, 7B and 32B exist (Qwen2.5
based, text only). 7B is the closest published size."""


TOKEN_ENV = "SCIGEN_REWARD_TOKEN"
"""The environment variable holding the reward server's bearer token (one per training run)."""


@dataclass
class RewardConfig:
    mode: str = "rule_then_verifier"
    """``rule_then_verifier``: math-verify / option letters first, the verifier only when the rule
    cannot decide. ``rule_only``: never call the verifier (undecided answers are ``incorrect``).
    ``verifier_only``: every answer goes to the verifier."""

    verifier_urls: list[str] = field(default_factory=list)
    """OpenAI-compatible base URLs of the served verifier (``http://host:8001/v1``); several are used
    in turn, each with its own in-flight bound."""

    verifier_model: str = DEFAULT_VERIFIER
    """The model name the verifier endpoints serve."""

    verifier_api_key_env: str | None = None
    """Name of the environment variable holding the endpoints' key (None: no key)."""

    max_in_flight: int = 64
    """Verifier requests in flight per endpoint."""

    verifier_timeout_s: float = 60.0
    """Seconds one verifier request may take before it is retried."""

    verifier_retries: int = 2
    """Retries of a verifier request after a time-out, 429, 5xx or connection error."""

    item_timeout_s: float = 600.0
    """Hard limit for judging one answer, waiting for a free verifier slot and retries included:
    past it the verdict is ``error``. A whole GRPO step is judged at once, so the last answers wait
    for the first ones: keep it well above (answers / (endpoints x max_in_flight)) x call latency."""

    max_tokens: int = 8
    """Verifier output budget: the first token decides, a few more cost nothing."""

    answer_tail_chars: int = 1000
    """Characters of the response (after any ``</think>``) the verifier sees: the end, where the answer is."""

    error_score: float = 0.0
    """Score of an answer the verifier could not judge (down, time-out, unparsed output). Counted and
    reported, never silent."""

    format_weight: float = 0.0
    """Share of the score given for a ``\\boxed{}`` answer being present: score = (1 - w) * correct + w * boxed."""

    cache_size: int = 200_000
    """Verdicts kept in memory by content hash (question, gold answer, judged segment, verifier)."""

    rule_workers: int = 0
    """Processes for the rule checks (math-verify, with its own time-outs there); 0 runs them in
    threads of this process without time-outs (math-verify's timer only works on a main thread)."""

    rule_timeout_s: float = 10.0
    """Seconds a rule check may take; past it the rule is undecided and the verifier judges."""

    def __post_init__(self) -> None:
        if isinstance(self.verifier_urls, str):  # "a,b" from a command line or an env var
            self.verifier_urls = [u for u in self.verifier_urls.split(",") if u]
        if self.mode not in MODES:
            raise ValueError(f"RewardConfig.mode: {self.mode!r} is not one of {MODES}")
        if self.mode != "rule_only" and not self.verifier_urls:
            raise ValueError(
                f"RewardConfig.verifier_urls: mode {self.mode!r} needs at least one verifier URL"
            )
        if not 0.0 <= self.format_weight <= 1.0:
            raise ValueError(f"RewardConfig.format_weight: must be in [0, 1], got {self.format_weight}")
        for name in ("max_in_flight", "max_tokens", "answer_tail_chars", "cache_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"RewardConfig.{name}: must be positive, got {getattr(self, name)!r}")

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> RewardConfig:
        """From verl's ``reward_kwargs`` or a YAML mapping; an unknown key is an error naming it."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValueError(f"RewardConfig: unknown setting(s) {unknown}; known: {sorted(known)}")
        values = dict(kwargs)
        if "verifier_urls" in values and not isinstance(values["verifier_urls"], str):
            values["verifier_urls"] = list(values["verifier_urls"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
