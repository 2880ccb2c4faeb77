"""Small fixes to moto's behaviour, one module each, installed by `keel.local.server` at start."""
