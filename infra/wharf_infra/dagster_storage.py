"""How Dagster's instance reaches Postgres, the same on the cluster (chart values) and the native stack."""

# dagster-postgres ships psycopg2; SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3.
POSTGRES_SCHEME = "postgresql+psycopg2"
