"""Seeded synthetic candidate pools: made-up carriers and provider networks.

Each pool is a set of column arrays (numpy) so the scoring stage is vectorised. Pools depend
only on the seed and are built once per seed per process (:func:`pools_for`).

- ``carriers:all``: 1847 carriers: 60 national majors, regional carriers that write a few
  lines in their home region, and specialty (E&S-like) carriers licensed almost everywhere.
- ``carriers:tier1``: the 60 national majors alone: licensed nearly everywhere, financially
  strongest, wide revenue bands, pricier.
- ``providers:network``: 250 healthcare providers and clinics (occupational health,
  urgent care, ...) that each operate in one to three states: the filter removes most.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_POOLS",
    "LINES",
    "LINE_LABELS",
    "STATES",
    "Pool",
    "pools_for",
]

#: Two-letter codes with their region and a rough population weight.
_STATE_TABLE = """
AL S 5 AK W 1 AZ W 7 AR S 3 CA W 39 CO W 6 CT NE 4 DE NE 1 DC NE 1 FL S 22 GA S 11 HI W 1
ID W 2 IL MW 13 IN MW 7 IA MW 3 KS MW 3 KY S 5 LA S 5 ME NE 1 MD NE 6 MA NE 7 MI MW 10
MN MW 6 MS S 3 MO MW 6 MT W 1 NE MW 2 NV W 3 NH NE 1 NJ NE 9 NM W 2 NY NE 20 NC S 11
ND MW 1 OH MW 12 OK S 4 OR W 4 PA NE 13 RI NE 1 SC S 5 SD MW 1 TN S 7 TX S 30 UT W 3
VT NE 1 VA S 9 WA W 8 WV S 2 WI MW 6 WY W 1
"""
_cells = _STATE_TABLE.split()
STATES: tuple[str, ...] = tuple(_cells[0::3])
_STATE_REGION = tuple(_cells[1::3])
_STATE_WEIGHT = np.array([float(w) for w in _cells[2::3]])
REGIONS: tuple[str, ...] = ("W", "S", "MW", "NE")
#: Region index of each state, aligned with STATES.
STATE_REGION = np.array([REGIONS.index(r) for r in _STATE_REGION], dtype=np.int8)
STATE_INDEX = {s: i for i, s in enumerate(STATES)}

LINES: tuple[str, ...] = (
    "professional_liability",
    "general_liability",
    "workers_comp",
    "cyber",
    "property",
    "commercial_auto",
    "directors_officers",
    "employment_practices",
    "product_liability",
    "umbrella",
)
LINE_INDEX = {line: i for i, line in enumerate(LINES)}
LINE_LABELS = {
    "professional_liability": "professional liability",
    "general_liability": "general liability",
    "workers_comp": "workers' comp",
    "cyber": "cyber",
    "property": "property",
    "commercial_auto": "commercial auto",
    "directors_officers": "D&O",
    "employment_practices": "employment practices",
    "product_liability": "product liability",
    "umbrella": "umbrella",
}
#: How common each line is among regional carriers (they mostly write the staples).
_LINE_POPULARITY = np.array([0.5, 0.9, 0.7, 0.3, 0.8, 0.6, 0.25, 0.3, 0.35, 0.5])
_SPECIALTY_LINES = (0, 3, 6, 7, 8)

DEFAULT_POOLS: tuple[str, ...] = ("carriers:all", "carriers:tier1", "providers:network")

_CARRIER_WORDS = [
    "Harborline",
    "Summit",
    "Granite",
    "Bluewater",
    "Keystone",
    "Meridian",
    "Pinecrest",
    "Ironwood",
    "Northstar",
    "Redwood",
    "Silverleaf",
    "Lakeshore",
    "Prairie",
    "Cascade",
    "Beacon",
    "Pioneer",
    "Evergreen",
    "Frontier",
    "Sterling",
    "Anchor",
    "Copperfield",
    "Falconridge",
    "Cedarbrook",
    "Highmark",
    "Oakhaven",
    "Riverbend",
    "Stonegate",
    "Westbridge",
    "Eastwind",
    "Bayshore",
    "Clearwater",
    "Driftwood",
    "Emberly",
    "Foxhollow",
    "Goldcrest",
    "Hawthorne",
    "Ivybridge",
    "Juniper",
    "Kingsley",
    "Larkspur",
    "Maplewood",
    "Northgate",
    "Orchard",
    "Palisade",
    "Quarry",
    "Ridgeline",
    "Sagebrush",
    "Tidewater",
    "Upland",
    "Valleyforge",
    "Willowmere",
    "Yellowstone",
    "Zephyr",
    "Arbor",
    "Bramble",
    "Canyon",
    "Delta",
    "Elmstead",
    "Fairhaven",
    "Glenwood",
    "Highland",
    "Inlet",
    "Jasper",
    "Kestrel",
    "Lantern",
    "Millbrook",
    "Newhaven",
    "Overland",
    "Portside",
    "Quailrun",
    "Rosewood",
    "Shoreline",
    "Timberline",
    "Unity",
    "Vantage",
    "Wexford",
    "Alder",
    "Birchwood",
    "Coastal",
    "Dunmore",
    "Edgewater",
    "Foundry",
    "Greystone",
    "Halcyon",
    "Ironbridge",
    "Lockhart",
    "Mariner",
    "Northfield",
    "Oakridge",
    "Paragon",
    "Redstone",
    "Sentinel",
    "Tamarack",
    "Whitfield",
    "Amberly",
    "Bellwether",
    "Crescent",
    "Dovetail",
    "Everest",
    "Flagstone",
    "Garrison",
]
_CARRIER_KINDS = """Mutual;Insurance Company;Casualty;Indemnity;Assurance;Specialty Insurance;
Underwriters;Fire & Marine;General Insurance;Risk Partners;Insurance Group;Surety & Casualty;
Mutual Insurance;Casualty Company;National Insurance;Insurance Exchange;Reciprocal;
Property & Casualty;Commercial Insurance;Select Insurance;Preferred Casualty""".replace(
    "\n", ""
).split(";")
_NATIONAL_KINDS = ("Financial", "National", "Insurance Group", "Re & Casualty", "Holdings")
_PROVIDER_WORDS = """Cedar Valley;Lakeside;Bayview;Northgate;Riverside;Sunrise;Hillcrest;Pinecrest;
Meadowbrook;Harbor;Summit;Willow Creek;Oak Park;Stonebridge;Clearview;Brookside;Parkway;
Fairview;Highland;Mission;Canyon;Bluebonnet;Magnolia;Aspen;Prairie;Lakeview;Westside;Eastgate;
Southpoint;Crossroads;Maple Grove;Silver Lake;Heritage;Gateway;Red Rock;Coastal;Evergreen;
Tri-County;Valley;Metro""".replace("\n", "").split(";")
_PROVIDER_KINDS = (
    "Occupational Health",
    "Medical Group",
    "Urgent Care",
    "Physical Therapy",
    "Family Clinic",
    "Health Partners",
    "Orthopedic Associates",
    "Industrial Medicine",
    "Rehab Center",
    "Community Health",
)
#: Providers' programs by line: mostly occupational health (workers' comp), some liability.
_PROVIDER_LINE_POPULARITY = np.array([0.45, 0.35, 0.95, 0.1, 0.1, 0.25, 0.05, 0.3, 0.15, 0.1])


@dataclass(frozen=True, slots=True, eq=False)
class Pool:
    """One candidate pool as columns; row ``i`` of every array is candidate ``names[i]``.

    ``appetite[i, line]`` is 0 where the candidate does not write the line, else 0..1;
    revenue bands are in log10 USD; the other per-candidate qualities are 0..1.
    """

    pool_id: str
    kind: str  # "carrier" or "provider"
    names: tuple[str, ...]
    licensed: np.ndarray  # (n, states) bool
    home_region: np.ndarray  # (n,) int8 region index, -1 for national
    appetite: np.ndarray  # (n, lines)
    breadth: np.ndarray  # (n, lines) coverage breadth where written
    rev_min: np.ndarray  # (n,) log10 USD
    rev_max: np.ndarray  # (n,) log10 USD
    capacity: np.ndarray  # (n,) log10 USD of revenue it can comfortably carry
    strength: np.ndarray  # (n,) financial strength
    pricing: np.ndarray
    placement: np.ndarray
    service: np.ndarray
    #: Appetite and breadth across the lines written (for profiles that name no line).
    appetite_mean: np.ndarray = field(init=False)
    breadth_mean: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "appetite_mean", _mean_written(self.appetite))
        object.__setattr__(self, "breadth_mean", _mean_written(self.breadth))

    @property
    def size(self) -> int:
        return len(self.names)


def _mean_written(matrix: np.ndarray) -> np.ndarray:
    written = matrix > 0
    return matrix.sum(axis=1) / np.maximum(written.sum(axis=1), 1)


def _unique_names(
    rng: random.Random, firsts: list[str], kinds: tuple[str, ...] | list[str], n: int, taken: set
) -> list[str]:
    combos = [f"{a} {b}" for a in firsts for b in kinds if f"{a} {b}" not in taken]
    names = rng.sample(combos, n)
    taken.update(names)
    return names


def _carriers(seed: int) -> tuple[Pool, Pool]:
    rng = random.Random(f"carriers/{seed}")
    gen = np.random.default_rng([seed, 1])
    n_national, n_regional, n_specialty = 60, 1527, 260
    n = n_national + n_regional + n_specialty
    n_states, n_lines = len(STATES), len(LINES)
    taken: set[str] = set()
    names = _unique_names(rng, _CARRIER_WORDS, _NATIONAL_KINDS, n_national, taken)
    names += _unique_names(rng, _CARRIER_WORDS, _CARRIER_KINDS, n - n_national, taken)

    kind = np.array([0] * n_national + [1] * n_regional + [2] * n_specialty)
    national, specialty = kind == 0, kind == 2
    home = gen.integers(0, len(REGIONS), n).astype(np.int8)
    home[national] = -1

    in_home = STATE_REGION[None, :] == home[:, None]
    p_licensed = np.where(in_home, 0.85, 0.07)
    p_licensed[national] = 0.97
    p_licensed[specialty] = 0.8
    licensed = gen.random((n, n_states)) < p_licensed
    # Regional carriers are domiciled somewhere: always licensed in at least one home state.
    home_pick = np.array([gen.choice(np.flatnonzero(max(h, 0) == STATE_REGION)) for h in home])
    licensed[np.arange(n), home_pick] = True

    writes = gen.random((n, n_lines)) < _LINE_POPULARITY[None, :]
    writes[national] = gen.random((n_national, n_lines)) < 0.8
    spec_writes = np.zeros((n_specialty, n_lines), dtype=bool)
    for row in range(n_specialty):
        chosen = gen.choice(_SPECIALTY_LINES, size=gen.integers(1, 3), replace=False)
        spec_writes[row, chosen] = True
    writes[specialty] = spec_writes
    writes[np.arange(n), gen.integers(0, n_lines, n)] |= ~writes.any(axis=1)
    appetite = np.where(writes, gen.beta(2.5, 1.8, (n, n_lines)), 0.0)
    appetite[specialty] = np.where(spec_writes, 0.65 + 0.35 * gen.random(spec_writes.shape), 0.0)
    breadth = np.where(writes, np.clip(0.5 * appetite + 0.5 * gen.random((n, n_lines)), 0, 1), 0)

    rev_min = gen.uniform(5.0, 7.3, n)
    rev_max = np.minimum(rev_min + gen.uniform(1.0, 2.6, n), 9.4)
    rev_min[national] = gen.uniform(5.8, 7.0, n_national)
    rev_max[national] = gen.uniform(9.1, 9.5, n_national)
    rev_min[specialty] = gen.uniform(5.5, 7.5, n_specialty)
    rev_max[specialty] = np.minimum(rev_min[specialty] + gen.uniform(1.5, 2.5, n_specialty), 9.4)

    strength = gen.beta(4, 2.2, n)
    strength[national] = gen.uniform(0.78, 1.0, n_national)
    capacity = np.where(national, gen.uniform(8.8, 9.6, n), rev_min + gen.uniform(0.8, 2.0, n))
    pricing = gen.beta(3, 2.5, n)
    pricing[national] = gen.uniform(0.3, 0.7, n_national)
    placement = gen.beta(3, 2, n)
    placement[specialty] -= 0.15  # E&S placements take more underwriting back-and-forth
    service = gen.beta(3.5, 2, n)
    service[national] = gen.uniform(0.5, 0.9, n_national)

    columns: dict[str, Any] = dict(
        kind="carrier",
        names=tuple(names),
        licensed=licensed,
        home_region=home,
        appetite=appetite,
        breadth=breadth,
        rev_min=rev_min,
        rev_max=rev_max,
        capacity=capacity,
        strength=strength,
        pricing=pricing,
        placement=np.clip(placement, 0, 1),
        service=service,
    )
    everyone = Pool(pool_id="carriers:all", **columns)
    majors: dict[str, Any] = {
        k: (v[:n_national] if isinstance(v, np.ndarray | tuple) else v) for k, v in columns.items()
    }
    return everyone, Pool(pool_id="carriers:tier1", **majors)


def _providers(seed: int) -> Pool:
    rng = random.Random(f"providers/{seed}")
    gen = np.random.default_rng([seed, 2])
    n, n_states, n_lines = 250, len(STATES), len(LINES)
    names = _unique_names(rng, _PROVIDER_WORDS, _PROVIDER_KINDS, n, set())
    state_p = _STATE_WEIGHT / _STATE_WEIGHT.sum()
    licensed = np.zeros((n, n_states), dtype=bool)
    main = gen.choice(n_states, size=n, p=state_p)
    licensed[np.arange(n), main] = True
    home = STATE_REGION[main].copy()
    for row in range(n):
        extra = int(gen.integers(0, 3))
        neighbours = np.flatnonzero(home[row] == STATE_REGION)
        licensed[row, gen.choice(neighbours, size=min(extra, len(neighbours)), replace=False)] = (
            True
        )
    writes = gen.random((n, n_lines)) < _PROVIDER_LINE_POPULARITY[None, :]
    writes[np.arange(n), LINE_INDEX["workers_comp"]] |= ~writes.any(axis=1)
    appetite = np.where(writes, gen.beta(3, 1.6, (n, n_lines)), 0.0)
    breadth = np.where(writes, gen.beta(2.5, 2.0, (n, n_lines)), 0.0)
    rev_min = gen.uniform(5.0, 6.5, n)
    rev_max = rev_min + gen.uniform(1.5, 3.0, n)
    return Pool(
        pool_id="providers:network",
        kind="provider",
        names=tuple(names),
        licensed=licensed,
        home_region=home,
        appetite=appetite,
        breadth=breadth,
        rev_min=rev_min,
        rev_max=rev_max,
        capacity=rev_min + gen.uniform(1.2, 2.8, n),
        strength=gen.beta(3, 2.5, n),
        pricing=gen.beta(3.5, 2, n),  # network rates are negotiated: mostly good
        placement=gen.beta(2.5, 2.5, n),  # appointment availability varies a lot
        service=gen.beta(4, 2, n),
    )


@lru_cache(maxsize=8)
def pools_for(seed: int) -> dict[str, Pool]:
    """Every pool of the sandbox for ``seed`` (built once, then shared read-only).

    >>> pools = pools_for(0)
    >>> pools["carriers:all"].size, pools["carriers:tier1"].size, pools["providers:network"].size
    (1847, 60, 250)
    """
    everyone, majors = _carriers(seed)
    pools = {p.pool_id: p for p in (everyone, majors, _providers(seed))}
    for pool in pools.values():
        for array in (getattr(pool, f) for f in Pool.__slots__):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False  # shared across threads and sandboxes
    return pools
