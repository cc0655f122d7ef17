"""The ports implemented on AWS: boto3 lives here and nowhere else in the library."""
