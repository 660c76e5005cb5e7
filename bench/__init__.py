"""`make bench`: TiffTock's delivery and API benchmark (see bench/__main__.py and the README's Performance section)."""
