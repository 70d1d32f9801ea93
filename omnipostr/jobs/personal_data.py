"""Jobs keep nothing about a person (see ``omnipostr.personal_data``)."""

from __future__ import annotations

HOLDINGS: list = []

NOT_PERSONAL = {
    "job_leases": "which app process runs the background jobs",
    "job_runs": "when each background job ran and how it ended",
}
