"""A rider's profile: its fields and how the read endpoints apply them."""
