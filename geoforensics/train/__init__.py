"""Training AG-CLIP: config (YAML, paper defaults), cached window features, simulated BirdNET scores,
the loop (DDP under ``torchrun``), and export of shipped heads. Entry point: ``geoforensics train``."""
