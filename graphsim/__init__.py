"""graphsim."""
