"""What `pulumi up` runs: the `cluster` and `platform` programs, their `components` (one
ComponentResource a file), and the helpers they share (labels, chart values and sources)."""
