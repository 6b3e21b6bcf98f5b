"""Journey planning: RAPTOR over the timetable's arrays, ignorant of GTFS and HTTP."""
