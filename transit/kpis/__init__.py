"""KPIs for operators: what their live data says about punctuality, cancellations, coverage
and feed health, and how much the API is asked about their stops and routes."""
