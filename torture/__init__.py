"""Fault-injection workload and checker (make torture)."""
