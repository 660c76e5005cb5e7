"""The reminders resource."""
