"""The kwok target: a real Kubernetes control plane on loopback with simulated nodes."""
