"""Case-management records, wellbeing survey responses and GP social-prescribing codes."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from estate.people import People

REFERRER = [
    "GP",
    "Practice nurse",
    "Other practice staff",
    "Self-referral",
    "VCSE",
    "Secondary care",
    "Social care",
]
REFERRER_P = [0.45, 0.10, 0.10, 0.15, 0.08, 0.06, 0.06]
REASONS = [
    "Loneliness or isolation",
    "Low mood or anxiety",
    "Financial",
    "Housing",
    "Physical inactivity",
    "Long-term condition",
    "Carer support",
    "Bereavement",
]
REASON_P = np.array([0.22, 0.22, 0.12, 0.08, 0.12, 0.12, 0.06, 0.06])

# The Social Prescribing Information Standard's minimum dataset (PRSB; NHS England from 2026):
# needs and concerns, and support offered (including referred-to activities), each a repeating
# element: one row per referral x need, one per referral x support. The value sets below are
# this system's labels for them (the standard's SNOMED CT refsets are issued by NHS England on
# request, so none is copied here); schemas/case_management.py holds the same lists.
# Needs and concerns: the referrer's reasons (REASONS) and two more a link worker hears about.
NEEDS = [*REASONS, "Employment or learning", "Relationships"]
NEED_IDENTIFIED_BY = ["Referrer", "Link worker"]
# Planted: the chance that a link worker records each further need or concern at the first
# contact (a need the referrer already gave is not recorded twice).
LINK_WORKER_NEED_P = np.array([0.10, 0.12, 0.10, 0.06, 0.08, 0.05, 0.04, 0.03, 0.08, 0.06])
SUPPORT_TYPES = [
    "Personalised care and support plan",
    "Information and signposting",
    "Emotional support",
    "Practical help",
    "Referral to community activity",
    "Referral to statutory service",
]
COMMUNITY_ACTIVITY = SUPPORT_TYPES.index("Referral to community activity")
# Planted: the chance of each kind of support for an engaged person (met the link worker and
# did not decline); "Referral to community activity" is offered exactly when an onward referral
# was made. Someone who declines at the first contact is signposted with SIGNPOST_DECLINED_P.
SUPPORT_P = np.array([0.85, 0.60, 0.45, 0.30, 0.0, 0.15])
SIGNPOST_DECLINED_P = 0.5
# Planted: days from referral to first contact are 1 + Geometric(FIRST_CONTACT_P) (median 8
# days); people who do not engage (10 %) are never contacted.
FIRST_CONTACT_P = 0.1
# Labels from an older value set, which the schema rejects: planted defects.
LEGACY_NEED = "Loneliness"
LEGACY_SUPPORT = "Social prescribing"
CONTACT_TYPES = ["Face to face", "Telephone", "Video", "Group"]
CONTACT_P = [0.5, 0.3, 0.05, 0.15]
ACTIVITIES = {
    "Arts and culture": ["Riverside Arts Collective", "Open Studio Project"],
    "Physical activity": ["Walk and Talk Group", "Parkside Gentle Exercise Club"],
    "Nature and green": ["Community Growing Garden", "Green Gym Volunteers"],
    "Befriending": ["Good Neighbours Befriending", "Age Friendly Friends"],
    "Advice and advocacy": ["Citizens Advice Partnership", "Money Matters Advice Hub"],
    "Learning and skills": ["Adult Learning Café", "Digital Skills Drop-in"],
    "Volunteering": ["Volunteer Centre Synthshire", "Food Bank Volunteers"],
    "Peer support": ["Men's Shed", "Mums Together Peer Group"],
}
ACT_NAMES = list(ACTIVITIES)

SWEMWBS_Q = [
    "I've been feeling optimistic about the future",
    "I've been feeling useful",
    "I've been feeling relaxed",
    "I've been dealing with problems well",
    "I've been thinking clearly",
    "I've been feeling close to other people",
    "I've been able to make up my own mind about things",
]
SWEMWBS_L = ["None of the time", "Rarely", "Some of the time", "Often", "All of the time"]
ONS4_Q = [
    ("ONS4_LIFE_SATISFACTION", "Overall, how satisfied are you with your life nowadays?"),
    (
        "ONS4_WORTHWHILE",
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
    ),
    ("ONS4_HAPPINESS", "Overall, how happy did you feel yesterday?"),
    ("ONS4_ANXIETY", "Overall, how anxious did you feel yesterday?"),
]
UCLA_Q = [
    "How often do you feel that you lack companionship?",
    "How often do you feel left out?",
    "How often do you feel isolated from others?",
]
UCLA_L = ["Hardly ever", "Some of the time", "Often"]

# planted outcome parameters: (baseline mean, baseline sd, mean change, sd of change)
SWEMWBS_PARAMS = (19.5, 4.0, 3.0, 4.0)
ONS4_PARAMS = {
    "ONS4_LIFE_SATISFACTION": (4.8, 2.0, 1.2, 2.0),
    "ONS4_WORTHWHILE": (5.2, 2.0, 1.0, 2.0),
    "ONS4_HAPPINESS": (5.0, 2.2, 1.0, 2.2),
    "ONS4_ANXIETY": (5.6, 2.3, -1.2, 2.3),
}
UCLA_PARAMS = (7.2, 1.4, -1.0, 1.5)
FOLLOW_UP_RESPONSE = 0.7
BASELINE_RESPONSE = 0.9
INCOMPLETE_SHARE = 0.05


def _iso(days: np.ndarray) -> pl.Series:
    return pl.Series(days, dtype=pl.Int32).cast(pl.Date).dt.strftime("%Y-%m-%d")


def _split_sum(rng: np.random.Generator, total: np.ndarray, k: int, lo: int, hi: int) -> np.ndarray:
    """k integer items in [lo, hi] summing exactly to total (vectorised)."""
    extra = total - k * lo
    base = extra // k
    rem = extra - base * k
    order = np.argsort(rng.random((total.size, k)), axis=1)
    bump = (order < rem[:, None]).astype(np.int64)
    items = lo + base[:, None] + bump
    # shuffle a unit between two items for realism where it stays within bounds
    a, b = rng.integers(0, k, total.size), rng.integers(0, k, total.size)
    r = np.arange(total.size)
    ok = (a != b) & (items[r, a] < hi) & (items[r, b] > lo) & (rng.random(total.size) < 0.5)
    items[r[ok], a[ok]] += 1
    items[r[ok], b[ok]] -= 1
    return items


def build_cms(
    rng: np.random.Generator,
    ppl: People,
    prac_code: list[str],
    end_excl: int,
    nhs_str: np.ndarray,
    pathway_rng: np.random.Generator | None = None,
    bad_needs: int = 0,
    bad_support: int = 0,
) -> dict:
    """Return polars frames for referrals/contacts/onward/outcomes/survey + SP GP codes, and
    the standard's needs and concerns and support offered. These draw from ``pathway_rng``, a
    stream of their own, so that adding them left every other extract as it was; ``bad_needs``
    and ``bad_support`` rows carry a label outside the value set (planted defects)."""
    last = end_excl - 1
    idx = np.flatnonzero(ppl.ref_kind == 1)
    idx = idx[np.lexsort((idx, ppl.ref_day[idx]))]
    n = idx.size
    rid = np.array([f"SPR{i + 1:07d}" for i in range(n)]) if n else np.array([], dtype=str)
    ref = ppl.ref_day[idx].astype(np.int64)
    outcome = rng.choice(3, n, p=[0.8, 0.1, 0.1])  # 0 engaged, 1 declined, 2 did not engage
    first = ref + 1 + rng.geometric(FIRST_CONTACT_P, n)
    sessions_plan = 1 + rng.poisson(3.5, n)
    dis_plan = np.where(
        outcome == 0,
        first + 14 * sessions_plan + rng.integers(0, 30, n),
        np.where(outcome == 1, first, ref + rng.integers(28, 61, n)),
    )
    first = np.where(outcome == 2, -1, first)
    first = np.where(first > last, -1, first)
    discharged = dis_plan <= last
    status = np.where(
        ~discharged,
        "Open",
        np.select([outcome == 0, outcome == 1], ["Discharged", "Declined"], "Did not engage"),
    )
    reason = np.where(
        ~discharged,
        "",
        np.select(
            [outcome == 0, outcome == 1], ["Goals achieved", "Declined"], "Unable to contact"
        ),
    )
    eng_reason = rng.choice(
        [
            "Goals achieved",
            "Connected to community support",
            "Moved away",
            "No longer wishes to engage",
        ],
        n,
        p=[0.45, 0.4, 0.05, 0.1],
    )
    reason = np.where(discharged & (outcome == 0), eng_reason, reason)
    # contacts
    n_contacts = np.where(outcome == 0, sessions_plan, np.where(outcome == 1, 1, 0))
    n_contacts = np.where(first < 0, 0, n_contacts)
    c_ref = np.repeat(np.arange(n), n_contacts)
    c_k = np.arange(c_ref.size) - np.repeat(np.cumsum(n_contacts) - n_contacts, n_contacts)
    c_day = first[c_ref] + 14 * c_k + np.where(c_k > 0, rng.integers(-3, 4, c_ref.size), 0)
    keep = c_day <= last
    c_ref, c_day = c_ref[keep], c_day[keep]
    sessions = np.bincount(c_ref, minlength=n)
    last_contact = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_contact, c_ref, c_day)
    ctype = rng.choice(len(CONTACT_TYPES), c_ref.size, p=CONTACT_P)
    ctype = np.where(outcome[c_ref] == 1, 1, ctype)
    dur = 5 * rng.integers(3, 19, c_ref.size)
    contacts = pl.DataFrame(
        {
            "contact_id": [f"CON{i + 1:08d}" for i in range(c_ref.size)],
            "referral_id": rid[c_ref] if n else [],
            "contact_date": _iso(c_day),
            "contact_type": np.array(CONTACT_TYPES)[ctype] if c_ref.size else [],
            "duration_minutes": dur.astype(np.int64),
            "last_modified": _iso(c_day) + "T17:30:00",
        },
        schema={
            "contact_id": pl.String,
            "referral_id": pl.String,
            "contact_date": pl.String,
            "contact_type": pl.String,
            "duration_minutes": pl.Int64,
            "last_modified": pl.String,
        },
    )
    # onward referrals
    n_on = np.where((outcome == 0) & (sessions >= 2), np.minimum(rng.poisson(1.2, n), 3), 0)
    o_ref = np.repeat(np.arange(n), n_on)
    o_day = first[o_ref] + rng.integers(7, 41, o_ref.size)
    keep = o_day <= last
    o_ref, o_day = o_ref[keep], o_day[keep]
    cat = rng.integers(0, len(ACT_NAMES), o_ref.size)
    org = rng.integers(0, 2, o_ref.size)
    onward = pl.DataFrame(
        {
            "onward_referral_id": [f"ONW{i + 1:08d}" for i in range(o_ref.size)],
            "referral_id": rid[o_ref] if n else [],
            "onward_referral_date": _iso(o_day),
            "activity_category": [ACT_NAMES[c] for c in cat],
            "organisation_name": [
                ACTIVITIES[ACT_NAMES[c]][g] for c, g in zip(cat, org, strict=True)
            ],
            "attended": (rng.random(o_ref.size) < 0.7).astype(np.int64),
            "last_modified": _iso(o_day) + "T17:45:00",
        },
        schema={
            "onward_referral_id": pl.String,
            "referral_id": pl.String,
            "onward_referral_date": pl.String,
            "activity_category": pl.String,
            "organisation_name": pl.String,
            "attended": pl.Int64,
            "last_modified": pl.String,
        },
    )
    last_onward = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_onward, o_ref, o_day)

    # wellbeing responses: baseline at first contact (engaged), follow-up ~90 days later
    b_mask = (outcome == 0) & (first >= 0) & (rng.random(n) < BASELINE_RESPONSE)
    b_ref = np.flatnonzero(b_mask)
    f_day_all = first + rng.integers(84, 101, n)
    f_mask = b_mask & (rng.random(n) < FOLLOW_UP_RESPONSE) & (f_day_all <= last)
    f_ref = np.flatnonzero(f_mask)
    nb = b_ref.size
    mu, sd, ch, chsd = SWEMWBS_PARAMS
    sw_base = np.clip(np.round(rng.normal(mu, sd, n)), 7, 35).astype(np.int64)
    sw_fu = np.clip(sw_base + np.round(rng.normal(ch, chsd, n)).astype(np.int64), 7, 35)
    ons_base, ons_fu = {}, {}
    for code, (m, s, c, cs) in ONS4_PARAMS.items():
        ons_base[code] = np.clip(np.round(rng.normal(m, s, n)), 0, 10).astype(np.int64)
        ons_fu[code] = np.clip(
            ons_base[code] + np.round(rng.normal(c, cs, n)).astype(np.int64), 0, 10
        )
    um, us, uc, ucs = UCLA_PARAMS
    u_base = np.clip(np.round(rng.normal(um, us, n)), 3, 9).astype(np.int64)
    u_fu = np.clip(u_base + np.round(rng.normal(uc, ucs, n)).astype(np.int64), 3, 9)

    resp_ref = np.concatenate([b_ref, f_ref])
    resp_tp = np.concatenate([np.zeros(nb, dtype=np.int8), np.ones(f_ref.size, dtype=np.int8)])
    resp_day = np.concatenate([first[b_ref], f_day_all[f_ref]])
    order = np.lexsort((resp_tp, resp_ref, resp_day))
    resp_ref, resp_tp, resp_day = resp_ref[order], resp_tp[order], resp_day[order]
    nr = resp_ref.size
    sw_sum = np.where(resp_tp == 0, sw_base[resp_ref], sw_fu[resp_ref])
    sw_items = _split_sum(rng, sw_sum, 7, 1, 5)
    u_sum = np.where(resp_tp == 0, u_base[resp_ref], u_fu[resp_ref])
    u_items = _split_sum(rng, u_sum, 3, 1, 3)
    n_incomplete = int(round(INCOMPLETE_SHARE * nr))
    incomplete = np.zeros(nr, dtype=bool)
    incomplete[rng.choice(nr, n_incomplete, replace=False)] = True
    blank_item = rng.integers(0, 7, nr)
    minute = rng.integers(9 * 60, 20 * 60, nr)
    submitted_days = resp_day
    survey: dict[str, Any] = {
        "response_day": resp_day,
        "ref": resp_ref,
        "tp": resp_tp,
        "minute": minute,
        "sw_items": sw_items,
        "u_items": u_items,
        "incomplete": incomplete,
        "blank_item": blank_item,
        "ons": {
            k: np.where(resp_tp == 0, ons_base[k][resp_ref], ons_fu[k][resp_ref]) for k in ons_base
        },
    }
    # outcome_measures rows (totals for the same responses; incomplete SWEMWBS not recorded)
    om_parts = []
    tp_label = np.where(resp_tp == 0, "baseline", "follow_up")
    rec = _iso(submitted_days) if nr else pl.Series([], dtype=pl.String)
    base_cols = {
        "referral_id": rid[resp_ref] if n else np.array([], dtype=str),
        "timepoint": tp_label,
        "recorded_date": rec.to_numpy() if nr else np.array([], dtype=str),
    }
    seq = np.arange(nr)
    measures = (
        [("SWEMWBS", sw_sum, ~incomplete)]
        + [(k, survey["ons"][k], np.ones(nr, dtype=bool)) for k in ons_base]
        + [("UCLA3", u_sum, np.ones(nr, dtype=bool))]
    )
    for j, (code, score, ok) in enumerate(measures):
        om_parts.append(
            pl.DataFrame(
                {
                    "seq": seq[ok] * 10 + j,
                    "referral_id": base_cols["referral_id"][ok],
                    "measure_code": np.full(ok.sum(), code),
                    "timepoint": base_cols["timepoint"][ok],
                    "recorded_date": base_cols["recorded_date"][ok],
                    "score": score[ok].astype(np.int64),
                },
                schema={
                    "seq": pl.Int64,
                    "referral_id": pl.String,
                    "measure_code": pl.String,
                    "timepoint": pl.String,
                    "recorded_date": pl.String,
                    "score": pl.Int64,
                },
            )
        )
    om = pl.concat(om_parts).sort("seq")
    om = om.with_columns(
        outcome_id=pl.format("OUT{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(8)),
        last_modified=pl.col("recorded_date") + "T18:00:00",
    ).select(
        "outcome_id",
        "referral_id",
        "measure_code",
        "timepoint",
        "recorded_date",
        "score",
        "last_modified",
    )
    last_resp = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_resp, resp_ref, resp_day)

    nreason = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    picks = np.argsort(rng.random((n, len(REASONS))) / REASON_P[None, :] ** 1.0, axis=1)
    # has_reason[i, k]: reason k is among referral i's first nreason[i] picks
    has_reason = np.zeros((n, len(REASONS)), dtype=bool)
    r_i, r_j = np.nonzero(np.arange(len(REASONS))[None, :] < nreason[:, None])
    has_reason[r_i, picks[r_i, r_j]] = True
    # joined in REASONS order, as the system's referral form lists them
    h_i, h_k = np.nonzero(has_reason)
    reasons = (
        pl.DataFrame({"i": h_i, "reason": np.array(REASONS)[h_k]})
        .group_by("i", maintain_order=True)
        .agg(pl.col("reason").str.join(";"))["reason"]
    )
    dis = np.where(discharged, dis_plan, -1)
    lm = np.maximum.reduce([ref, first, dis, last_contact, last_onward, last_resp])
    referrals = pl.DataFrame(
        {
            "referral_id": rid,
            "nhs_number": nhs_str[idx] if n else np.array([], dtype=str),
            "practice_code": np.array(prac_code)[ppl.prac[idx]] if n else np.array([], dtype=str),
            "referral_date": _iso(ref),
            "referrer_type": np.array(REFERRER)[rng.choice(len(REFERRER), n, p=REFERRER_P)],
            "referral_reasons": reasons,
            "status": status,
            "first_contact_date": _iso(np.where(first >= 0, first, 0)),
            "sessions": sessions.astype(np.int64),
            "discharge_date": _iso(np.where(dis >= 0, dis, 0)),
            "discharge_reason": reason,
            "last_modified": _iso(lm) + "T18:00:00",
        },
        schema={
            "referral_id": pl.String,
            "nhs_number": pl.String,
            "practice_code": pl.String,
            "referral_date": pl.String,
            "referrer_type": pl.String,
            "referral_reasons": pl.String,
            "status": pl.String,
            "first_contact_date": pl.String,
            "sessions": pl.Int64,
            "discharge_date": pl.String,
            "discharge_reason": pl.String,
            "last_modified": pl.String,
        },
    )
    referrals = referrals.with_columns(
        first_contact_date=pl.when(pl.Series(first >= 0)).then("first_contact_date"),
        discharge_date=pl.when(pl.Series(dis >= 0)).then("discharge_date"),
        discharge_reason=pl.when(pl.Series(dis >= 0)).then("discharge_reason"),
    )

    needs, support, pathway = _pathway_records(
        pathway_rng or np.random.Generator(np.random.PCG64(0)),
        rid,
        ref,
        first,
        outcome,
        o_ref,
        o_day,
        has_reason,
        last,
        bad_needs,
        bad_support,
    )

    # GP social-prescribing codes
    sp_p, sp_d, sp_c = [], [], []
    coded = rng.random(n) < 0.6
    sp_p.append(idx[coded])
    sp_d.append(ref[coded])
    sp_c.append(np.zeros(coded.sum(), int))
    off = rng.random(n) < 0.3
    sp_p.append(idx[off])
    sp_d.append(np.maximum(ref[off] - rng.integers(0, 8, off.sum()), 0))
    sp_c.append(np.ones(off.sum(), int))
    dec = (status == "Declined") & (rng.random(n) < 0.5)
    sp_p.append(idx[dec])
    sp_d.append(dis[dec])
    sp_c.append(np.full(dec.sum(), 2))
    seen = (first >= 0) & (outcome == 0) & (rng.random(n) < 0.3)
    sp_p.append(idx[seen])
    sp_d.append(first[seen])
    sp_c.append(np.full(seen.sum(), 3))
    closed = (status == "Discharged") & (rng.random(n) < 0.2)
    sp_p.append(idx[closed])
    sp_d.append(dis[closed])
    sp_c.append(np.full(closed.sum(), 4))
    co = np.flatnonzero(ppl.ref_kind == 2)
    sp_p.append(co)
    sp_d.append(ppl.ref_day[co].astype(np.int64))
    sp_c.append(np.zeros(co.size, int))
    sp = {
        "person": np.concatenate(sp_p),
        "day": np.concatenate(sp_d).astype(np.int64),
        "code": np.concatenate(sp_c),
    }
    stats = {
        "n_cms": int(n),
        "n_coded_only": int(co.size),
        "n_coded_with_cms": int(coded.sum()),
        "n_responses": int(nr),
        "n_incomplete": n_incomplete,
        "sw_sum": sw_sum,
        "resp_ref": resp_ref,
        "resp_tp": resp_tp,
        "ons": survey["ons"],
        "u_sum": u_sum,
        "status_counts": {
            s: int((status == s).sum())
            for s in ["Open", "Discharged", "Declined", "Did not engage"]
        },
    }
    return {
        "referrals": referrals,
        "contacts": contacts,
        "onward": onward,
        "outcomes": om,
        "needs": needs,
        "support": support,
        "pathway": pathway,
        "survey": survey,
        "sp_codes": sp,
        "stats": stats,
        "rid": rid,
        "ref_idx": idx,
    }


def _ids(prefix: str, count: int) -> pl.Expr:
    return pl.format(prefix + "{}", (pl.int_range(count) + 1).cast(pl.String).str.zfill(8))


def _pathway_records(
    rng: np.random.Generator,
    rid: np.ndarray,
    ref: np.ndarray,
    first: np.ndarray,
    outcome: np.ndarray,
    o_ref: np.ndarray,
    o_day: np.ndarray,
    has_reason: np.ndarray,
    last: int,
    bad_needs: int,
    bad_support: int,
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Needs and concerns (one row per referral x need) and support offered (one row per
    referral x kind of support), as the standard records them, with what was planted."""
    n = ref.size
    contacted = first >= 0
    # ---- needs and concerns: the referrer's reasons on the referral date, then what the link
    # worker records at the first contact
    from_referrer = np.zeros((n, len(NEEDS)), dtype=bool)
    from_referrer[:, : len(REASONS)] = has_reason
    from_worker = (
        (rng.random((n, len(NEEDS))) < LINK_WORKER_NEED_P[None, :])
        & ~from_referrer
        & contacted[:, None]
    )
    r1, k1 = np.nonzero(from_referrer)
    r2, k2 = np.nonzero(from_worker)
    n_i = np.concatenate([r1, r2])
    n_k = np.concatenate([k1, k2])
    n_by = np.concatenate([np.zeros(r1.size, np.int64), np.ones(r2.size, np.int64)])
    n_day = np.concatenate([ref[r1], first[r2]])
    need_label = np.array(NEEDS)[n_k] if n_k.size else np.array([], dtype=str)
    # planted defects: a label from an older value set on randomly chosen referrals
    bad_i = rng.choice(n, bad_needs) if n and bad_needs else np.array([], np.int64)
    n_i = np.concatenate([n_i, bad_i])
    n_by = np.concatenate([n_by, np.zeros(bad_i.size, np.int64)])
    n_day = np.concatenate([n_day, ref[bad_i]])
    need_label = np.concatenate([need_label, np.full(bad_i.size, LEGACY_NEED)])
    order = np.lexsort((n_by, n_day, n_i))
    needs = (
        pl.DataFrame(
            {
                "referral_id": rid[n_i[order]] if n else np.array([], dtype=str),
                "need": need_label[order],
                "identified_by": np.array(NEED_IDENTIFIED_BY)[n_by[order]],
                "identified_date": _iso(n_day[order]),
            },
            schema={
                "referral_id": pl.String,
                "need": pl.String,
                "identified_by": pl.String,
                "identified_date": pl.String,
            },
        )
        .with_columns(need_id=_ids("NED", n_i.size))
        .with_columns(last_modified=pl.col("identified_date") + "T18:10:00")
        .select(
            "need_id", "referral_id", "need", "identified_by", "identified_date", "last_modified"
        )
    )

    # ---- support offered: at the first contact for those who engage (a plan, signposting,
    # emotional support), practical help and statutory referrals within four weeks of it, a
    # referral to a community activity with the first onward referral; signposting for some of
    # those who decline
    engaged = contacted & (outcome == 0)
    offered = (rng.random((n, len(SUPPORT_TYPES))) < SUPPORT_P[None, :]) & engaged[:, None]
    offered[:, 1] |= contacted & (outcome == 1) & (rng.random(n) < SIGNPOST_DECLINED_P)
    delay = np.where(
        np.isin(np.arange(len(SUPPORT_TYPES)), [3, 5])[None, :],
        rng.integers(0, 29, (n, len(SUPPORT_TYPES))),
        0,
    )
    first_onward = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_onward, o_ref, o_day)
    has_onward = np.bincount(o_ref, minlength=n) > 0
    offered[:, COMMUNITY_ACTIVITY] = has_onward
    s_day_all = np.where(
        np.arange(len(SUPPORT_TYPES))[None, :] == COMMUNITY_ACTIVITY,
        first_onward[:, None],
        first[:, None] + delay,
    )
    offered &= s_day_all <= last  # not offered yet when the data ends
    s_i, s_k = np.nonzero(offered)
    s_day = s_day_all[s_i, s_k]
    s_label = np.array(SUPPORT_TYPES)[s_k] if s_k.size else np.array([], dtype=str)
    bad_s = (
        rng.choice(np.flatnonzero(engaged), bad_support)
        if engaged.any() and bad_support
        else np.array([], np.int64)
    )
    s_i = np.concatenate([s_i, bad_s])
    s_day = np.concatenate([s_day, first[bad_s]])
    s_label = np.concatenate([s_label, np.full(bad_s.size, LEGACY_SUPPORT)])
    order = np.lexsort((s_day, s_i))
    support = (
        pl.DataFrame(
            {
                "referral_id": rid[s_i[order]] if n else np.array([], dtype=str),
                "support_type": s_label[order],
                "offered_date": _iso(s_day[order]),
            },
            schema={"referral_id": pl.String, "support_type": pl.String, "offered_date": pl.String},
        )
        .with_columns(support_id=_ids("SUP", s_i.size))
        .with_columns(last_modified=pl.col("offered_date") + "T18:20:00")
        .select("support_id", "referral_id", "support_type", "offered_date", "last_modified")
    )

    # ---- what was planted, and what it came to (valid rows only)
    need_any = from_referrer | from_worker
    days = first - ref
    elapsed = ref + 14 <= last
    within = contacted & (days <= 14) & elapsed
    q = 1.0 - FIRST_CONTACT_P
    # P(1 + G <= d) = 1 - q^(d - 1) for G ~ Geometric(p) on 1, 2, ...
    median = next(d for d in range(2, 1000) if 1.0 - q ** (d - 1) >= 0.5)
    pathway = {
        "value_sets": {"needs": NEEDS, "support_types": SUPPORT_TYPES},
        "link_worker_need_probability": dict(zip(NEEDS, LINK_WORKER_NEED_P.tolist(), strict=True)),
        "support_probability_engaged": {
            t: (p if t != SUPPORT_TYPES[COMMUNITY_ACTIVITY] else "with an onward referral")
            for t, p in zip(SUPPORT_TYPES, SUPPORT_P.tolist(), strict=True)
        },
        "cms_referrals": int(n),
        "referrals_with_need": {k: int(need_any[:, j].sum()) for j, k in enumerate(NEEDS)},
        "referrals_with_support": {
            k: int(offered[:, j].sum()) for j, k in enumerate(SUPPORT_TYPES)
        },
        "days_to_first_contact": {
            "distribution": f"1 + Geometric(p={FIRST_CONTACT_P}); never for 'did not engage'",
            "planted_median": median,
            "planted_within_14_days_if_contacted": round(1.0 - q**13, 6),
            "planted_contacted_share": 0.9,
            "planted_within_14_days": round(0.9 * (1.0 - q**13), 6),
            "contacted": int(contacted.sum()),
            "realised_median": float(np.median(days[contacted])) if contacted.any() else None,
            "referrals_14_days_elapsed": int(elapsed.sum()),
            "contacted_within_14_days": int(within.sum()),
        },
    }
    return needs, support, pathway
