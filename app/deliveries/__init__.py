"""The deliveries resource."""
