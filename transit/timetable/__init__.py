"""The compiled timetable: struct-of-arrays over all operators, stored as memory-mapped files."""
