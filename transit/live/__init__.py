"""Live data endpoints: operator push and status, vehicles, alerts, merged GTFS-RT out."""
