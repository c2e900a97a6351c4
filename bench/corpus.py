"""The generated data the import and export benchmarks share: one vocabulary, so that their texts look alike
(commas, quotes, non-ASCII characters), and the same deterministic texts from the same seed."""

from __future__ import annotations

import random

SEED = 20261123
LABELS = ["positive", "negative", "neutral"]
SOURCES = ["web", "email", "chat", "review", "survey"]
WORDS = (
    "the a an this that our your their my order delivery package support team refund invoice account "
    "password screen app update price service quality product store manager call email message reply "
    "arrived late early broken perfect great terrible fine slow fast quick helpful rude friendly again "
    "never always still only really very quite too much little more less today yesterday tomorrow week "
    "month after before because although, however, but and or so if when while until since please thanks "
    "thank you I we they it is was were be been have has had do does did can could would should will not "
    'no yes okay sure maybe "great" (again) - ! ? 10 2 48h €20 $5 café naïve'
)
VOCABULARY = WORDS.split()


def generated_text(rng: random.Random) -> str:
    """A sentence of 60-200 characters of the vocabulary, capitalised, with a full stop."""
    length = rng.randint(60, 200)
    text = " ".join(rng.choices(VOCABULARY, k=48))[:length].rstrip()
    return text[0].upper() + text[1:] + "."
