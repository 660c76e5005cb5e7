"""`make bench`: TiffTock's delivery and API benchmark (see bench/__main__.py and docs/performance.md)."""
