"""Journey planning: RAPTOR over the timetable's arrays, ignorant of GTFS and HTTP."""

from transit.routing.kernel_cache import pin

pin()  # before any kernel below is defined: their cache folder follows their sources
