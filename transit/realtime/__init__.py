"""Live data: GTFS-Realtime in, an overlay on the timetable out (engine side, no web)."""
