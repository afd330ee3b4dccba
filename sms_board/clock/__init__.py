"""The clock: due jobs (`jobs`) and the one scheduler process that runs them (`scheduler`)."""
