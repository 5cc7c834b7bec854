"""The Dagster layer: partitions, resources, assets and jobs over the plain workflow."""
