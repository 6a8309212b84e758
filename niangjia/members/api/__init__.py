"""The member registry on the REST API: members, join applications, transfers, ceremonies."""
