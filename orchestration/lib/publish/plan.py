"""Which audiences tonight's run republishes: an audience's outputs are rewritten whole, and only
when a mart it holds was rebuilt since that output was last published (orchestration/lib/night.py
keeps what is pending per output)."""

from __future__ import annotations

from collections.abc import Callable

from orchestration.lib import night
from orchestration.lib.publish.marts import Mart, built_marts
from orchestration.lib.settings import Settings


def to_publish(
    cfg: Settings, marts: list[Mart], publisher: str, say: Callable[[str], None]
) -> tuple[list[Mart], set[str] | None]:
    """The built marts of every audience holding a mart rebuilt since ``publisher`` last
    published, and what was pending (None: never published, so everything)."""
    built = built_marts(cfg, marts)
    pending = night.unpublished(cfg, publisher)
    if pending is None:
        return built, pending
    audiences = {m.audience for m in built if m.name in pending}
    kept = sorted({m.audience for m in built} - audiences)
    if kept:
        say(
            f"{publisher}: no mart of the {', '.join(kept)} audience rebuilt since it was last "
            "published: its files are left as they are"
        )
    return [m for m in built if m.audience in audiences], pending


def publish_changed(
    cfg: Settings,
    marts: list[Mart],
    publisher: str,
    write: Callable[[list[Mart]], dict[str, int]],
    say: Callable[[str], None],
) -> dict[str, int] | None:
    """``write`` the marts of the audiences that changed and record them as published; None
    when no audience changed (nothing written, and so no materialisation)."""
    chosen, pending = to_publish(cfg, marts, publisher, say)
    if not chosen:
        night.published(cfg, publisher, pending)
        return None
    counts = write(chosen)
    night.published(cfg, publisher, pending)
    return counts
