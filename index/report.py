"""What an ingest reports: the summary of a run (`IngestReport`) and, along the way, how
far the embedding is (`Progress`, for the progress callback)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def chunks_said(n: int) -> str:
    """ "1 chunk", "2 chunks"."""
    return f"{n} chunk" + ("" if n == 1 else "s")


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    reembedded: list[str] = field(default_factory=list)  # same content, new embedder
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks written (embedded) by this run
    embed_requests: int = 0
    seconds: float = 0.0
    embedder: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    repaired: list[str] = field(default_factory=list)  # what self-repair found and fixed

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.reembedded)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "reembedded": self.reembedded,
            "removed": self.removed,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "chunks": self.chunks,
            "embed_requests": self.embed_requests,
            "seconds": round(self.seconds, 3),
            "embedder": self.embedder,
            "note": self.note,
            "repaired": self.repaired,
        }

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, removed {len(self.removed)}, "
            f"skipped {len(self.skipped)}"
            + (f", re-embedded {len(self.reembedded)}" if self.reembedded else "")
            + f"; {chunks_said(self.chunks)} embedded in {self.seconds:.2f} s "
            f"({self.embedder.get('kind')} {self.embedder.get('model')})"
        )


@dataclass(frozen=True)
class Progress:
    """Where an ingest is: chunks embedded, the total expected (an estimate while
    documents are still being prepared), chunks per second and seconds left."""

    done: int
    total: int
    rate: float
    eta: float | None

    def line(self) -> str:
        eta = f", about {self.eta:.0f} s left" if self.eta is not None else ""
        return f"embedded {self.done}/{self.total} chunks ({self.rate:.0f} chunks/s{eta})"
