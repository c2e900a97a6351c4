"""Where a running import reports its progress (the cache key both its writer and its readers use)."""

from __future__ import annotations


def import_progress_key(job_id: int) -> str:
    return f"oversight:import:{job_id}:progress"


def import_heartbeat_key(job_id: int) -> str:
    """Set by a running import's worker every few seconds; its absence means no worker runs the job."""
    return f"oversight:import:{job_id}:heartbeat"
