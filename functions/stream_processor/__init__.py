"""The stream processor: Kinesis batches of app events through the stream batch use case."""
