"""One description of the platform, rendered for the cluster and run by the native stack.

`facts` says what the platform is made of (databases and their roles, buckets and who may use
them, the Iceberg warehouse); `endpoints` says where each service answers, on Kubernetes or on
loopback; `artefacts` renders the configuration each service runs with (Trino's catalogs and
event listener, Nessie's settings, Marquez's config.yml, Dagster's instance) from those two.
The Pulumi components put the artefacts into chart values and ConfigMaps; the native stack
writes the very same artefacts to disk with loopback endpoints. The environment contract the code
locations read is `wharf_shared.environment`, built here from the endpoints.
"""
