"""The JupyterLite site (tools/build_site.py) in a real browser, offline."""
