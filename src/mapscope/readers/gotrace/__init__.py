"""Reader of Go execution traces (runtime/trace, Go 1.22 to 1.27): generations of typed batches."""
