"""Small shared helpers: atomic writes, file hashes, devices, job logs."""
