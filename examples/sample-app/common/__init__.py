"""Code shared by the api and the worker: the store protocol, the jobs and the health checks."""
