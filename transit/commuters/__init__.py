"""Commuters: accounts, profile, favourites and the personal board over HTTP."""
