"""What wharf builds for itself: the Go tools it runs (`toolchain`: the kwok target's control plane,
Pulumi, helm, Traefik, oauth2-proxy) and the code-location images (`images`)."""
