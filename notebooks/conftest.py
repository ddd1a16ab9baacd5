"""pytest --nbval on these notebooks: notebook 11 pulls from a local registry holding the
model's reproducible images (DOCKERLAYERS_REGISTRY=local), never from Docker Hub, so its
outputs match the committed ones online and offline. Set DOCKERLAYERS_REGISTRY yourself
to override (outputs will then differ)."""

import os

os.environ.setdefault("DOCKERLAYERS_REGISTRY", "local")
