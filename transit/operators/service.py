from __future__ import annotations

from transit.operators.schemas import Operator, OperatorCounts
from transit.timetable.timetable import Timetable


def operators(tt: Timetable) -> list[Operator]:
    out = []
    for o in tt.meta["operators"]:
        c = o["counts"]
        out.append(Operator(
            id=o["id"], name=o["name"], licence=o.get("licence", ""), url=o.get("url", ""),
            languages=sorted({o.get("feed_lang") or "", *o.get("languages", [])} - {""}),
            timetable_version=tt.version,
            counts=OperatorCounts(**{k: c[k] for k in OperatorCounts.model_fields}),
        ))
    return out
