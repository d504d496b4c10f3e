"""A digest of a building's engine input: equal digests mean the engine would produce the same lines.

SHA-256 of the input's pickle (frozen dataclasses, exact ``Decimal``s, hourly series as raw numpy bytes).
Equal inputs built the same way pickle to equal bytes; a spurious mismatch (another Python version, a
different sharing of equal objects) only costs one engine run, never a wrong result — the digest decides
whether to recompute a closed period, not what its lines are.
"""

from __future__ import annotations

import hashlib
import pickle

from meterhub.billing.rules.building import BuildingInput

__all__ = ["input_digest"]


def input_digest(building: BuildingInput) -> str:
    """SHA-256 (hex) of everything the engine reads from ``building``."""
    return hashlib.sha256(pickle.dumps(building, protocol=5)).hexdigest()
