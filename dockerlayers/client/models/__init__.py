"""The SDK's model objects, one module per resource as in docker-py (docker/models/)."""
