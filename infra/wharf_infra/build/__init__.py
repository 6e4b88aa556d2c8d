"""What wharf builds for itself: the Go tools it runs (`toolchain`) and the code-location images (`images`)."""
