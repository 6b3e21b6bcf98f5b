"""Parsing GTFS-Realtime FeedMessages and splitting them by kind."""

from __future__ import annotations

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

KINDS = ("trip-updates", "vehicle-positions", "alerts")
FeedMessage = pb.FeedMessage


class RealtimeFeedError(ValueError):
    """A body that is not a usable FeedMessage; the message says why."""


def parse(data: bytes) -> pb.FeedMessage:
    msg = pb.FeedMessage()
    try:
        msg.ParseFromString(data)
    except DecodeError as exc:
        raise RealtimeFeedError(f"not a GTFS-Realtime FeedMessage: {exc}") from None
    if not msg.HasField("header") or not msg.header.gtfs_realtime_version:
        raise RealtimeFeedError(
            "not a GTFS-Realtime FeedMessage: header.gtfs_realtime_version is missing")
    if not msg.IsInitialized():  # the parser lets required fields go missing
        missing = msg.FindInitializationErrors()
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise RealtimeFeedError("not a GTFS-Realtime FeedMessage: required fields missing: "
                                f"{', '.join(missing[:5])}{more}")
    return msg


def kind_of(entity: pb.FeedEntity) -> str | None:
    if entity.HasField("trip_update"):
        return "trip-updates"
    if entity.HasField("vehicle"):
        return "vehicle-positions"
    if entity.HasField("alert"):
        return "alerts"
    return None


def split(msg: pb.FeedMessage) -> dict[str, pb.FeedMessage]:
    """One message per kind present (entities keep their order; headers are copied)."""
    out: dict[str, pb.FeedMessage] = {}
    deleted = []
    for e in msg.entity:
        kind = kind_of(e)
        if kind is None:
            if e.is_deleted:  # DIFFERENTIAL: remove this id, whatever kind holds it
                deleted.append(e)
            continue
        part = out.get(kind)
        if part is None:
            part = out[kind] = pb.FeedMessage()
            part.header.CopyFrom(msg.header)
        part.entity.add().CopyFrom(e)
    if deleted:
        for kind in KINDS:
            part = out.get(kind)
            if part is None:
                part = out[kind] = pb.FeedMessage()
                part.header.CopyFrom(msg.header)
            for e in deleted:
                part.entity.add().CopyFrom(e)
    return out


def is_full_dataset(msg: pb.FeedMessage) -> bool:
    return msg.header.incrementality == pb.FeedHeader.FULL_DATASET
