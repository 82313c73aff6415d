"""HubSpot and QBO HTTP clients: API paths, auth, retries and rate limits live here and nowhere else."""
