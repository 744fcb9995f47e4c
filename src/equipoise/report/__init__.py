"""Tables and plots for any result object."""
