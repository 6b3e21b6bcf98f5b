"""Stops and stations: detail, nearby, name search."""
