"""Developer tools outside the runtime: benchmarks and load generation."""
