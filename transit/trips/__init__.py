"""Trip detail for a service date."""
