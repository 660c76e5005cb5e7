"""TiffTock 1 compatibility routes."""
