"""ampflow: the AWS Amplify Gen 2 backend workflow as Dagster assets.

Two layers: the plain packages here (`synthesis`, `targets`, `verification`,
`seeding`, `client`) know Amplify, DynamoDB and seed files and import nothing from
Dagster; `defs/` wires them to partitions and the UI.
"""
