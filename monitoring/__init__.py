"""Regional monitoring: trajectories and their outcomes counted for a region's steering group,
published only as releases protected by small-cell suppression and differential privacy."""
