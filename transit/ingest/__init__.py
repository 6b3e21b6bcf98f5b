"""Reading operators' GTFS: locate (path or URL), read with gtfs-kit, validate."""
