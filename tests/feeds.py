"""Small GTFS feeds written by the tests: a minimal valid base that each test bends."""

from __future__ import annotations

import zipfile
from pathlib import Path

BASE: dict[str, str] = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                  "A,Agency A,https://a.example,Europe/Brussels\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
                 "S1,First,50.0000,4.0000\nS2,Second,50.0100,4.0000\nS3,Third,50.0200,4.0000\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                  "R1,A,1,Line One,3\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                    "start_date,end_date\nDAILY,1,1,1,1,1,1,1,20260101,20261231\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign\nR1,DAILY,T1,Third\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,S2,2\n"
                      "T1,08:20:00,08:20:00,S3,3\n",
}


def write_feed(directory: Path, files: dict[str, str | None], zipped: bool = True,
               base: dict[str, str] | None = None) -> Path:
    """Write BASE overridden by `files` (None removes a file) as a zip or a folder."""
    content = dict(BASE if base is None else base)
    for name, text in files.items():
        if text is None:
            content.pop(name, None)
        else:
            content[name] = text
    directory.parent.mkdir(parents=True, exist_ok=True)
    if zipped:
        path = directory.with_suffix(".zip")
        with zipfile.ZipFile(path, "w") as zf:
            for name, text in content.items():
                zf.writestr(name, text)
        return path
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in content.items():
        (directory / name).write_text(text)
    return directory
