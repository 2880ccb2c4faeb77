"""Governed data: encrypted, versioned buckets and the Glue Data Catalog generated from the contract."""
