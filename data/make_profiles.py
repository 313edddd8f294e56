"""Generate data/profiles.csv: made-up companies seeking insurance (seeded, reproducible).

    python data/make_profiles.py            # rewrites data/profiles.csv

Columns: entity (unique slug), state, line, revenue (USD), plus industry and employees,
which the Nexio API does not know: they show that extra profile fields pass through.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

SEED = 20240601
COUNT = 240

STATES = {  # weighted like where businesses are
    "CA": 14, "TX": 11, "NY": 9, "FL": 9, "IL": 6, "PA": 5, "OH": 5, "GA": 4, "NC": 4,
    "MI": 3, "NJ": 4, "VA": 3, "WA": 3, "AZ": 3, "MA": 3, "TN": 2, "CO": 3, "MN": 2,
    "MO": 2, "IN": 2, "WI": 2, "MD": 2, "OR": 2, "UT": 2, "SC": 1, "NV": 1, "KY": 1,
    "LA": 1, "AL": 1, "OK": 1, "CT": 1, "IA": 1, "KS": 1, "NE": 1, "NM": 1, "ID": 1,
    "AR": 1, "MS": 1, "HI": 1, "ME": 1, "NH": 1, "MT": 1, "DE": 1, "RI": 1, "WV": 1,
    "AK": 1, "VT": 1, "WY": 1, "ND": 1, "SD": 1, "DC": 1,
}  # fmt: skip

#: Industry -> (lines it typically buys, weights), revenue range (log10 USD), staff per $1M.
INDUSTRIES = {
    "manufacturing": (
        ("product_liability", "general_liability", "workers_comp", "property"),
        (3, 3, 3, 2),
        (6.3, 9.2),
        4.0,
    ),
    "software": (
        ("cyber", "professional_liability", "directors_officers"),
        (4, 3, 2),
        (5.6, 9.0),
        3.0,
    ),
    "construction": (
        ("general_liability", "workers_comp", "commercial_auto", "umbrella"),
        (4, 4, 2, 1),
        (5.8, 8.8),
        5.0,
    ),
    "healthcare clinic": (
        ("professional_liability", "general_liability", "employment_practices"),
        (5, 2, 1),
        (5.5, 8.0),
        8.0,
    ),
    "logistics": (
        ("commercial_auto", "workers_comp", "general_liability", "umbrella"),
        (5, 3, 1, 1),
        (6.0, 9.0),
        4.0,
    ),
    "restaurant group": (
        ("general_liability", "workers_comp", "property", "employment_practices"),
        (4, 3, 2, 1),
        (5.3, 8.3),
        15.0,
    ),
    "retail": (
        ("general_liability", "property", "employment_practices", "cyber"),
        (3, 3, 1, 1),
        (5.5, 9.3),
        6.0,
    ),
    "consulting": (
        ("professional_liability", "cyber", "employment_practices"),
        (5, 2, 1),
        (5.3, 8.5),
        5.0,
    ),
    "fintech": (
        ("cyber", "directors_officers", "professional_liability"),
        (4, 3, 2),
        (6.0, 9.0),
        2.5,
    ),
    "architecture": (("professional_liability", "general_liability"), (5, 1), (5.3, 7.8), 6.0),
    "real estate": (
        ("property", "general_liability", "umbrella", "directors_officers"),
        (4, 3, 1, 1),
        (6.0, 9.3),
        1.5,
    ),
    "biotech": (
        ("product_liability", "directors_officers", "property", "cyber"),
        (3, 3, 1, 1),
        (6.0, 9.0),
        2.0,
    ),
    "staffing": (
        ("workers_comp", "employment_practices", "professional_liability"),
        (5, 2, 1),
        (6.0, 8.8),
        20.0,
    ),
    "nonprofit": (
        ("directors_officers", "general_liability", "employment_practices"),
        (3, 2, 2),
        (5.3, 7.8),
        7.0,
    ),
    "agriculture": (
        ("property", "commercial_auto", "workers_comp", "general_liability"),
        (3, 2, 2, 2),
        (5.5, 8.5),
        3.0,
    ),
    "hospitality": (("property", "general_liability", "workers_comp"), (3, 3, 2), (5.8, 8.8), 9.0),
}

FIRST = [
    "acme",
    "apex",
    "atlas",
    "beacon",
    "birch",
    "blue-heron",
    "bright",
    "cascade",
    "cedar",
    "cinder",
    "clearpath",
    "coastal",
    "cobalt",
    "copper",
    "crescent",
    "crown",
    "delta",
    "ember",
    "everline",
    "fairway",
    "falcon",
    "fieldstone",
    "firefly",
    "forge",
    "frontier",
    "galaxy",
    "garnet",
    "gateway",
    "golden",
    "granite",
    "greenleaf",
    "harbor",
    "hearth",
    "highland",
    "horizon",
    "indigo",
    "iron",
    "juniper",
    "keystone",
    "lakeside",
    "lantern",
    "liberty-bell",
    "lighthouse",
    "lumen",
    "maple",
    "marble",
    "meadow",
    "meridian",
    "metro",
    "midtown",
    "millstone",
    "monarch",
    "mosaic",
    "north-fork",
    "northwind",
    "oak",
    "orbit",
    "paragon",
    "peak",
    "pine",
    "pinnacle",
    "pioneer",
    "polaris",
    "prairie",
    "prism",
    "quarry",
    "quartz",
    "radiant",
    "redwood",
    "ridge",
    "river",
    "rockwell",
    "sable",
    "sage",
    "sapphire",
    "sequoia",
    "sierra",
    "silver",
    "solstice",
    "sparrow",
    "spruce",
    "star",
    "summit",
    "sunbelt",
    "tandem",
    "terra",
    "tidal",
    "timber",
    "trail",
    "trident",
    "true-north",
    "union",
    "valley",
    "vanguard",
    "vertex",
    "vista",
    "willow",
    "zenith",
]

SUFFIX = {
    "manufacturing": ["manufacturing", "industries", "fabrication", "components", "works"],
    "software": ["software", "labs", "systems", "cloud", "analytics"],
    "construction": ["construction", "builders", "contracting", "roofing", "paving"],
    "healthcare clinic": ["clinic", "health", "medical", "dental", "care"],
    "logistics": ["logistics", "freight", "trucking", "delivery", "transport"],
    "restaurant group": ["restaurants", "kitchens", "hospitality-group", "bistro", "eatery"],
    "retail": ["retail", "outfitters", "market", "goods", "stores"],
    "consulting": ["consulting", "advisors", "partners", "strategy", "group"],
    "fintech": ["pay", "capital", "ledger", "finance", "lending"],
    "architecture": ["architects", "design", "studio", "planning", "drafting"],
    "real estate": ["properties", "realty", "holdings", "estates", "developments"],
    "biotech": ["bio", "therapeutics", "genomics", "pharma", "life-sciences"],
    "staffing": ["staffing", "workforce", "talent", "recruiting", "personnel"],
    "nonprofit": ["foundation", "alliance", "trust", "society", "fund"],
    "agriculture": ["farms", "growers", "orchards", "ranch", "agri"],
    "hospitality": ["hotels", "resorts", "inns", "lodging", "suites"],
}


def make_rows(seed: int = SEED, count: int = COUNT) -> list[dict[str, object]]:
    rng = random.Random(seed)
    states, state_weights = zip(*STATES.items(), strict=True)
    rows, taken = [], set()
    while len(rows) < count:
        industry = rng.choice(list(INDUSTRIES))
        lines, line_weights, (lo, hi), staff_per_million = INDUSTRIES[industry]
        entity = f"{rng.choice(FIRST)}-{rng.choice(SUFFIX[industry])}"
        if entity in taken:
            continue
        taken.add(entity)
        revenue = 10 ** rng.uniform(lo, hi)
        # Round like people report revenue: 3 significant digits.
        revenue = int(round(revenue, 2 - math.floor(math.log10(revenue))))
        employees = max(2, int(revenue / 1e6 * staff_per_million * rng.uniform(0.5, 1.5)))
        rows.append(
            {
                "entity": entity,
                "state": rng.choices(states, state_weights)[0],
                "line": rng.choices(lines, line_weights)[0],
                "revenue": revenue,
                "industry": industry,
                "employees": employees,
            }
        )
    return rows


def main() -> None:
    path = Path(__file__).with_name("profiles.csv")
    rows = make_rows()
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} profiles to {path}")


if __name__ == "__main__":
    main()
