"""`mapscope run`: running a Go program or benchmark with every collection on, into one run directory."""
