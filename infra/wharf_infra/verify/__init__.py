"""Offline checks of what `deploy` declares: both programs rendered under Pulumi's mocks (`render`),
every release through `helm template` (`helm_template`), and the workload rules (`policy`)."""
