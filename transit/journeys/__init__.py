"""Journey planning across operators: GET /v1/journeys."""
