"""Model registry, pretrained table and weight manager, and model wrappers (BirdNET, GeoCLIP, CLIP)."""
