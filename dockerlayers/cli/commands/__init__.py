"""The commands, grouped as docker/cli groups them (container, image, volume, system)."""
