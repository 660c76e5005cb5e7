"""Health and process discovery."""
