"""Shared builders for tests: a small valid stack config to vary, one change at a time."""

import copy

import pytest

from appcdn.config import ConfigError, parse_stack_config

ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"


def raw_config(stage: str = "live", plan: str = "pro", **site_overrides) -> dict:
    site = {"name": "shop", "zone": "example.com", "hosts": ["www.example.com"], "origin": "shop.eu.aldryn.io"}
    site.update(site_overrides)
    return {
        "stage": stage,
        "zones": {"example.com": {"id": ZONE_ID, "plan": plan, "owner": "live"}},
        "sites": [site],
    }


def problems_of(raw: dict, stack: str = "live") -> list[str]:
    """The problems reported for ``raw``, as 'path: message' strings."""
    with pytest.raises(ConfigError) as err:
        parse_stack_config(copy.deepcopy(raw), stack)
    return [str(p) for p in err.value.problems]
