"""Benchmarks of routing and intake (see bench/README.md); run with `make bench`."""
