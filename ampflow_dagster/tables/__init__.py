"""DynamoDB tables: their names, their live state, how it differs from the declared state, and changing them."""
