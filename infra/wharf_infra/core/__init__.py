"""What every other part reads: repository paths, pinned versions, the code-location registry,
stack config models, and the process supervisor of the native stack and the kwok control plane."""
