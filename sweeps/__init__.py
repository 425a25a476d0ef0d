"""The built-in sweeps, one folder per experiment family; `superjax list` shows them."""
