"""GET /v1/fares/products: the fare products of the served network (transit.fares)."""
