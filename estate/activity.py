"""GP and acute activity, month by month: GP appointments, then coded events, then acute, each
month in turn (the random draws interleave in that order, so they stay in one loop)."""

from __future__ import annotations

import numpy as np

from estate import acute, gp
from estate.common import Context
from estate.defects import DefectPlan
from estate.exposure import month_exposure


def write_activity(ctx: Context, defects: DefectPlan, sp_codes: dict[str, np.ndarray]) -> None:
    """``sp_codes``: the case-management model's social-prescribing GP codes ("person", "day",
    "code"), written among each month's coded events."""
    calendar, orgs, rng = ctx.calendar, ctx.orgs, ctx.rng
    sp_month = np.searchsorted(np.array(calendar.bounds), sp_codes["day"], side="right") - 1
    next_appointment_id = next_event_id = next_acute_id = 1
    # Each EMIS practice's event GUIDs start with its own random hex block.
    practice_hex = [f"{int(x):08X}" for x in rng.integers(0, 2**32, len(orgs.prac_code))]
    for mi in ctx.progress(range(len(calendar.months)), "gp+acute months"):
        month_start, month_end = calendar.bounds[mi], calendar.bounds[mi + 1]
        ext = month_end  # the month's extract is dated the day after it
        exposure = month_exposure(ctx.people, month_start, month_end)
        appointments = gp.draw_appointments(ctx, exposure, next_appointment_id)
        next_appointment_id += appointments.height
        gp.write_appointments(ctx, defects, mi, ext, appointments)
        in_month = sp_month == mi
        month_sp_codes = {k: sp_codes[k][in_month] for k in ("person", "day", "code")}
        events = gp.draw_events(ctx, appointments, month_sp_codes, next_event_id)
        next_event_id += events.height
        gp.write_events(ctx, defects, mi, ext, events, practice_hex)
        next_acute_id = acute.write_month(ctx, defects, mi, ext, exposure, next_acute_id)
