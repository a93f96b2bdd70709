"""The video domain's pages, one module per area; urls.py names each view by its module."""
