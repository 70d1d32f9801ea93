"""Plans and what each allows. Every workspace is on Free until billing lands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    generations_per_month: int
    members: int
    brand_voices: int


PLANS: dict[str, Plan] = {
    "free": Plan("free", "Free", generations_per_month=30, members=3, brand_voices=2),
    "pro": Plan("pro", "Pro", generations_per_month=500, members=10, brand_voices=20),
    "business": Plan("business", "Business", generations_per_month=5000, members=100, brand_voices=200),
}


def plan_for(plan_id: str | None) -> Plan:
    return PLANS.get(plan_id or "free", PLANS["free"])
