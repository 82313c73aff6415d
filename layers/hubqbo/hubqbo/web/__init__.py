"""HTTP plumbing shared by the API functions and, later, the server-rendered pages."""
