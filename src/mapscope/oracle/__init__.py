"""The oracle: generated Go programs whose runtime.MemStats readings are the truth for the model."""
