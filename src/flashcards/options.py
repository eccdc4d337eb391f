"""Deck options: the schema every deck carries (stored as JSON on the deck row).

Adding an option: give it a default here; old rows without the key read the default, so no migration
is needed. Renaming or changing the meaning of one needs a migration in ``flashcards.db``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from flashcards.errors import FlashcardsError

LEECH_ACTIONS = ("tag", "suspend")


@dataclass
class DeckOptions:
    """Per-deck study options (Anki's deck options, FSRS flavour)."""

    desired_retention: float = 0.9
    fsrs_parameters: list[float] | None = None  # None: fsrs defaults (until fitted)
    new_per_day: int = 20
    reviews_per_day: int = 200
    learning_steps: list[float] = field(default_factory=lambda: [1.0, 10.0])  # minutes
    relearning_steps: list[float] = field(default_factory=lambda: [10.0])  # minutes
    maximum_interval: int = 36500  # days
    bury_siblings: bool = True
    leech_threshold: int = 8  # lapses
    leech_action: str = "tag"  # "tag" or "suspend"

    def parameters(self) -> tuple[float, ...]:
        """The FSRS parameters in force: fitted ones, else fsrs's defaults."""
        return tuple(self.fsrs_parameters) if self.fsrs_parameters else tuple(DEFAULT_PARAMETERS)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> DeckOptions:
        """Options from a (possibly partial or older) dict; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        opts = cls(**{k: v for k, v in (data or {}).items() if k in names})
        return opts

    def validated(self) -> DeckOptions:
        """Check ranges; raise FlashcardsError with a readable message for a bad value."""
        problems = []
        if not 0.7 <= float(self.desired_retention) <= 0.99:
            problems.append("desired retention must be between 0.70 and 0.99")
        for name in ("new_per_day", "reviews_per_day"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 1_000_000:
                problems.append(f"{name.replace('_', ' ')} must be a whole number from 0 to 1000000")
        for name in ("learning_steps", "relearning_steps"):
            steps = getattr(self, name)
            if not isinstance(steps, list) or any(not isinstance(s, int | float) or s <= 0 or s >= 1440 * 365
                                                  for s in steps):
                problems.append(f"{name.replace('_', ' ')} must be positive numbers of minutes")
        if not isinstance(self.maximum_interval, int) or not 1 <= self.maximum_interval <= 36500:
            problems.append("maximum interval must be from 1 to 36500 days")
        if not isinstance(self.leech_threshold, int) or not 1 <= self.leech_threshold <= 1000:
            problems.append("leech threshold must be from 1 to 1000 lapses")
        if self.leech_action not in LEECH_ACTIONS:
            problems.append("leech action must be 'tag' or 'suspend'")
        if self.fsrs_parameters is not None:
            p = self.fsrs_parameters
            if len(p) != len(DEFAULT_PARAMETERS) or any(
                not lo <= x <= hi for x, lo, hi in zip(p, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=False)
            ):
                problems.append(f"FSRS parameters must be {len(DEFAULT_PARAMETERS)} numbers within FSRS's bounds")
        if problems:
            raise FlashcardsError("invalid deck options: " + "; ".join(problems))
        return self
