"""`make cluster` and `make destroy`: a local platform on kind, or on kwok's simulated nodes.

`prerequisites` checks the laptop's tools, `state` holds the local Pulumi backend and passphrase,
`plan` and `kwok_plan` list the steps (printed by `PLAN=1`), `readiness` waits for the platform,
`handoff` writes the smoke target and prints the URLs and the login; `kwok/` is the control plane
the kwok target runs.
"""
