"""wharf's infrastructure code, by job.

- `core`: repository paths, pinned versions, the code-location registry, stack config, process supervision.
- `contract`: one description of the platform, rendered for the cluster and run by the native stack.
- `deploy`: the two Pulumi programs (`cluster`, `platform`) and their `components`.
- `verify`: offline checks of what deploy declares (render under mocks, `helm template`, policy).
- `build`: what wharf builds for itself (the tools from Go modules, the code-location images).
- `native`: the services as local processes on loopback (the integration tier, `make dev`).
- `local`: `make cluster` / `make destroy` on a laptop: the kind and kwok targets.

`deploy` imports none of `verify`, `build`, `local` or `native` (`make lint` checks it).
"""
