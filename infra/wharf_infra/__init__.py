"""wharf's tooling: the code-location registry, the Pulumi components and the render/validate tools."""
