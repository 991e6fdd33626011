"""Organisations (region → ICB → sub-ICB → PCN → practice) and synthetic LSOAs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estate.tiers import QI_INTERVENTIONS, Tier

_PLACES = [
    "ALDERBROOK",
    "BRAMBLEFORD",
    "CASTLEMERE",
    "DUNHOLM",
    "ELMSWORTH",
    "FAIRLEIGH",
    "GLENTHORPE",
    "HARROWDEAN",
    "IVYBRIDGE VALE",
    "JUNIPER HILL",
    "KINGSMEAD",
    "LARKSTONE",
    "MARLOWGATE",
    "NETHERCOTE",
    "OAKHAVEN",
    "PENROSE",
    "QUARRYBANK",
    "ROWANTREE",
    "SALTMARSH",
    "THORNBURY VALE",
    "UPPERWOOD",
    "VALEBROOK",
    "WILLOWBY",
    "YARROWFIELD",
]
_SUFFIX = [
    "MEDICAL CENTRE",
    "SURGERY",
    "HEALTH CENTRE",
    "MEDICAL PRACTICE",
    "FAMILY PRACTICE",
    "GROUP PRACTICE",
]


def _place(i: int) -> str:
    n = len(_PLACES)
    return _PLACES[i % n] if i < n else f"{_PLACES[i % n]} {i // n + 1}"


@dataclass
class Orgs:
    region_code: str
    region_ons: str
    region_name: str
    icb_code: list[str]
    icb_ons: list[str]
    icb_name: list[str]
    icb_short: list[str]
    sub_code: list[str]
    sub_ons: list[str]
    sub_name: list[str]
    sub_icb: np.ndarray
    pcn_code: list[str]
    pcn_name: list[str]
    pcn_sub: np.ndarray
    pcn_has_lw: np.ndarray
    prac_code: list[str]
    prac_name: list[str]
    prac_postcode: list[str]
    prac_pcn: np.ndarray  # PCN at period start
    prac_emis: np.ndarray  # bool
    prac_size: np.ndarray  # list size at the start
    prac_dep: np.ndarray  # 0..1, 1 = most deprived
    step_practices: np.ndarray  # QI step-change (trained) practices, sorted
    mover: int
    mover_to: int
    move_day: int  # days since epoch, 1st of a month
    lsoa_code: list[str]
    lsoa_name: list[str]
    lsoa_lad: np.ndarray
    lad_code: list[str]
    lad_name: list[str]
    lsoa_rank: np.ndarray
    lsoa_decile: np.ndarray
    prac_lsoa_p: np.ndarray  # practices x lsoas sampling weights

    def pcn_at(self, day: int) -> np.ndarray:
        pcn = self.prac_pcn.copy()
        if day >= self.move_day:
            pcn[self.mover] = self.mover_to
        return pcn


def build_orgs(rng: np.random.Generator, tier: Tier, month_starts: list[int]) -> Orgs:
    ni, ns, npc, npr = tier.n_icbs, tier.n_subicbs, tier.n_pcns, tier.n_practices
    icb_code = [f"Q9{chr(65 + i)}" for i in range(ni)]
    icb_ons = [f"E549{i + 1:05d}" for i in range(ni)]
    icb_place = [_PLACES[(7 * i + 3) % len(_PLACES)].title() for i in range(ni)]
    icb_name = [f"NHS {p} Integrated Care Board" for p in icb_place]
    icb_short = [f"NHS {p} ICB" for p in icb_place]
    sub_icb = np.arange(ns) * ni // ns
    sub_code = [
        f"99{chr(65 + i % 26)}" if i < 26 else f"9{i // 26 + 8}{chr(65 + i % 26)}"
        for i in range(ns)
    ]
    sub_ons = [f"E389{i + 1:05d}" for i in range(ns)]
    sub_name = [f"{icb_short[sub_icb[i]]} - {sub_code[i]}" for i in range(ns)]
    pcn_sub = np.arange(npc) * ns // npc
    pcn_code = [f"U9{1001 + i:04d}" for i in range(npc)]
    pcn_name = [f"{_place(i + 5)} PCN" for i in range(npc)]
    # PCNs without a link worker: the last n (spread over sub-ICBs by construction).
    no_lw = np.linspace(npc - 1, 0, tier.n_pcns_without_lw, endpoint=False).round().astype(int)
    has_lw = np.ones(npc, dtype=bool)
    has_lw[no_lw] = False
    prac_pcn = np.arange(npr) * npc // npr
    prac_code = [f"Z{10001 + i}" for i in range(npr)]
    prac_name = [f"{_place(i)} {_SUFFIX[i % len(_SUFFIX)]}" for i in range(npr)]
    prac_postcode = [
        f"ZZ{1 + i // 26 % 99} {i % 10}{chr(65 + i % 26)}{chr(65 + (i * 7) % 26)}"
        for i in range(npr)
    ]
    emis = np.zeros(npr, dtype=bool)
    emis[rng.permutation(npr)[: round(0.6 * npr)]] = True
    size = rng.lognormal(0, 0.45, npr)
    size = np.maximum(np.round(size / size.sum() * tier.n_patients), 800).astype(np.int64)
    dep = rng.random(npr)

    lw_prac = np.flatnonzero(has_lw[prac_pcn])
    # Mover: a practice in a link-worker PCN that moves to the next link-worker PCN mid-period.
    lw_pcns = np.flatnonzero(has_lw)
    mover = (
        int(lw_prac[len(lw_prac) // 2 - (len(lw_prac) % 2 == 0)])
        if len(lw_prac) > 2
        else int(lw_prac[0])
    )
    from_pcn = prac_pcn[mover]
    mover_to = int(lw_pcns[(np.searchsorted(lw_pcns, from_pcn) + 1) % len(lw_pcns)])
    move_day = int(month_starts[len(month_starts) // 2])
    step = np.array(sorted(prac_code.index(code) for code in QI_INTERVENTIONS))
    if mover in step or not has_lw[prac_pcn[step]].all():
        raise ValueError("a QI practice must be in a link-worker PCN and not the mover")

    n_lsoa = max(12, tier.n_patients // 1500)
    n_lad = max(2, ns * 2)
    rank = rng.choice(32844, size=n_lsoa, replace=False) + 1
    decile = (rank - 1) * 10 // 32844 + 1
    lsoa_lad = np.arange(n_lsoa) * n_lad // n_lsoa
    lad_code = [f"E089{i + 1:05d}" for i in range(n_lad)]
    lad_name = [f"{_place(i + 11).title()}" for i in range(n_lad)]
    lsoa_code = [f"E01{900001 + i:06d}" for i in range(n_lsoa)]
    lsoa_name = [
        f"{lad_name[lsoa_lad[i]]} {i % 997 + 1:03d}{chr(65 + i % 5)}" for i in range(n_lsoa)
    ]
    lsoa_dep = 1.0 - rank / 32844.0
    w = np.exp(-(((lsoa_dep[None, :] - dep[:, None]) / 0.15) ** 2)) + 1e-3
    w /= w.sum(axis=1, keepdims=True)

    return Orgs(
        "Y99",
        "E40000099",
        "Synthetic Region",
        icb_code,
        icb_ons,
        icb_name,
        icb_short,
        sub_code,
        sub_ons,
        sub_name,
        sub_icb,
        pcn_code,
        pcn_name,
        pcn_sub,
        has_lw,
        prac_code,
        prac_name,
        prac_postcode,
        prac_pcn,
        emis,
        size,
        dep,
        step,
        mover,
        mover_to,
        move_day,
        lsoa_code,
        lsoa_name,
        lsoa_lad,
        lad_code,
        lad_name,
        rank,
        decile,
        w,
    )
