"""One folder per Lambda function: a thin handler each (decorators, wiring, one call into a use case)."""
