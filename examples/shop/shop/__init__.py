"""A toy shop: the example project rxdist shards in its README."""
