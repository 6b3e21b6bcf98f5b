"""Identity: operator and admin keys (stored hashed), roles, the one place that decides who
may touch what (scope), and the audit log. No web imports: the routers sit on top."""
