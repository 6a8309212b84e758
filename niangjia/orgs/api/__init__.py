"""The organisation registry over the REST API: regions, unions and employers."""
