"""Powertools glue shared by every Lambda function: reading Kinesis events, partial batch responses, metrics."""
