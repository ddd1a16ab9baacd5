"""Registries: pull and push over the distribution API (`/v2/`), auth, v2metadata.

The HTTP client is `requests` (well kept, handles redirects to blob storage, TLS and
streaming bodies); it is imported lazily so `import dockerlayers` works without it.

moby: distribution/, registry/
"""
