"""Species range models evaluated over galleries (BirdNET meta-model by default), cached."""
