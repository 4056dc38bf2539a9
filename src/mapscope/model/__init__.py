"""The exact model of Go's heap: types, size classes and map layouts for every supported release."""
