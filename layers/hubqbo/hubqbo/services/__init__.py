"""Use cases that orchestrate the domain, the stores and the clients; they take their ports as arguments."""
