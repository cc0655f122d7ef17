"""One codec per DynamoDB table, both directions: the only code that builds or reads those items.

The adapters write with them; the local runtime, chaos checks and ops tools read with them.
"""
