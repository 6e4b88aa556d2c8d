"""`make cluster` and `make destroy`: the local stack on kind, from nothing to a platform and back.

`prerequisites` checks the laptop's tools, `state` holds the local Pulumi backend and passphrase,
`plan` lists the steps (printed by `PLAN=1`), `readiness` waits for the platform, `handoff` writes the
smoke target and prints the URLs and the login.
"""
